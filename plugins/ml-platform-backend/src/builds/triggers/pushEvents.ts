import { EventParams } from '@backstage/plugin-events-node';
import { PushEvent } from '../BuildService';

/** The topics the events backend's GitHub and GitLab routers publish pushes on. */
export const PUSH_TOPICS = ['github.push', 'gitlab.push'];

type Json = Record<string, any>;

function changedPaths(commits: unknown): string[] | undefined {
  if (!Array.isArray(commits) || commits.length === 0) return undefined;
  return commits.flatMap((c: Json) => [
    ...(c.added ?? []),
    ...(c.modified ?? []),
    ...(c.removed ?? []),
  ]);
}

function branchOf(ref: unknown): string | undefined {
  return typeof ref === 'string' && ref.startsWith('refs/heads/')
    ? ref.slice('refs/heads/'.length)
    : undefined;
}

/**
 * A GitHub or GitLab push payload as a {@link PushEvent}; undefined for
 * pushes that build nothing (tags, deleted branches).
 */
export function parsePushEvent(event: EventParams): PushEvent | undefined {
  const p = event.eventPayload as Json | undefined;
  const branch = branchOf(p?.ref);
  if (!p || !branch) return undefined;

  if (event.topic === 'github.push') {
    if (p.deleted || !p.after || /^0+$/.test(p.after)) return undefined;
    const repo: Json = p.repository ?? {};
    const head: Json = p.head_commit ?? {};
    return {
      topic: event.topic,
      repositoryUrls: [
        repo.clone_url,
        repo.html_url,
        repo.ssh_url,
        repo.git_url,
        repo.url,
      ],
      branch,
      commitSha: p.after,
      commitMessage: head.message?.split('\n')[0],
      commitAuthor: head.author
        ? `${head.author.name} <${head.author.email}>`
        : undefined,
      pusher: p.pusher?.name ?? p.sender?.login,
      changedPaths: changedPaths(p.commits),
    };
  }

  if (event.topic === 'gitlab.push') {
    const sha = p.checkout_sha ?? p.after;
    if (!sha || /^0+$/.test(sha)) return undefined;
    const project: Json = p.project ?? p.repository ?? {};
    const head: Json =
      (p.commits ?? []).find((c: Json) => c.id === sha) ??
      p.commits?.at?.(-1) ??
      {};
    return {
      topic: event.topic,
      repositoryUrls: [
        project.git_http_url,
        project.git_ssh_url,
        project.web_url,
        project.http_url,
        project.url,
      ],
      branch,
      commitSha: sha,
      commitMessage: head.message?.split('\n')[0] ?? head.title,
      commitAuthor: head.author
        ? `${head.author.name} <${head.author.email}>`
        : undefined,
      pusher: p.user_username ?? p.user_name,
      changedPaths: changedPaths(p.commits),
    };
  }
  return undefined;
}
