import { Config } from '@backstage/config';
import { EventParams } from '@backstage/plugin-events-node';
import { PushEvent } from '../BuildService';

/** The topics the events backend's GitHub and GitLab routers publish pushes on. */
export const PUSH_TOPICS = ['github.push', 'gitlab.push'];

/**
 * How each provider's webhooks are authenticated by the events backend's
 * modules (`@backstage/plugin-events-backend-module-github` / `-gitlab`):
 * the config that turns their check on, and the header it checks.
 */
const PUSH_AUTHENTICATION = {
  'github.push': {
    provider: 'GitHub',
    configKey: 'events.modules.github.webhookSecret',
    header: 'x-hub-signature-256',
    configured: (config: Config) =>
      !!config.getOptionalString('events.modules.github.webhookSecret') ||
      (config.getOptionalConfigArray('integrations.github') ?? []).some(i =>
        (i.getOptionalConfigArray('apps') ?? []).some(
          app => !!app.getOptionalString('webhookSecret'),
        ),
      ),
  },
  'gitlab.push': {
    provider: 'GitLab',
    configKey: 'events.modules.gitlab.webhookSecret',
    header: 'x-gitlab-token',
    configured: (config: Config) =>
      !!config.getOptionalString('events.modules.gitlab.webhookSecret'),
  },
} as const;

/**
 * The push topics whose webhooks are signed (a secret is configured, so
 * the events backend refuses unsigned or wrongly signed ones), and a
 * sentence on how to configure the others. Pushes of other topics start no
 * build: anyone who can reach the backend could post them.
 */
export function authenticatedPushTopics(config: Config): {
  topics: string[];
  advice?: string;
} {
  const topics = PUSH_TOPICS.filter(t =>
    PUSH_AUTHENTICATION[t as keyof typeof PUSH_AUTHENTICATION].configured(
      config,
    ),
  );
  const missing = PUSH_TOPICS.filter(t => !topics.includes(t)).map(
    t => PUSH_AUTHENTICATION[t as keyof typeof PUSH_AUTHENTICATION],
  );
  if (missing.length === 0) return { topics };
  return {
    topics,
    advice: `${missing
      .map(m => m.provider)
      .join(' and ')} push webhooks start no builds: set ${missing
      .map(m => m.configKey)
      .join(
        ' / ',
      )} (and the same secret in the repository's webhook settings) to build on push; polling (mlPlatform.builds.pollInterval) still builds`,
  };
}

/**
 * Whether the event came through an ingress that checked its signature:
 * the events backend keeps the request headers as metadata. An event
 * without the header did not (e.g. the webhook module is not installed).
 */
export function carriesSignature(event: EventParams): boolean {
  const auth =
    PUSH_AUTHENTICATION[event.topic as keyof typeof PUSH_AUTHENTICATION];
  const value = auth && event.metadata?.[auth.header];
  return typeof value === 'string' && value.length > 0;
}

type Json = Record<string, any>;

/** A payload field that should be a string, bounded; anything else is absent. */
const text = (value: unknown, max = 1000): string | undefined =>
  typeof value === 'string' ? value.slice(0, max) : undefined;

const strings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string')
    : [];

function author(value: unknown): string | undefined {
  const a = value as Json | undefined;
  if (!a || typeof a !== 'object') return undefined;
  return text(`${text(a.name, 200) ?? ''} <${text(a.email, 200) ?? ''}>`);
}

function changedPaths(commits: unknown): string[] | undefined {
  if (!Array.isArray(commits) || commits.length === 0) return undefined;
  return commits.flatMap((c: Json) => [
    ...strings(c?.added),
    ...strings(c?.modified),
    ...strings(c?.removed),
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
    if (p.deleted || typeof p.after !== 'string' || /^0+$/.test(p.after)) {
      return undefined;
    }
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
      commitMessage: text(head.message)?.split('\n')[0],
      commitAuthor: author(head.author),
      pusher: text(p.pusher?.name ?? p.sender?.login, 200),
      changedPaths: changedPaths(p.commits),
    };
  }

  if (event.topic === 'gitlab.push') {
    const sha = p.checkout_sha ?? p.after;
    if (typeof sha !== 'string' || /^0+$/.test(sha)) return undefined;
    const project: Json = p.project ?? p.repository ?? {};
    const commits: Json[] = Array.isArray(p.commits)
      ? p.commits.filter((c: unknown) => c && typeof c === 'object')
      : [];
    const head: Json = commits.find(c => c.id === sha) ?? commits.at(-1) ?? {};
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
      commitMessage: text(head.message)?.split('\n')[0] ?? text(head.title),
      commitAuthor: author(head.author),
      pusher: text(p.user_username ?? p.user_name, 200),
      changedPaths: changedPaths(p.commits),
    };
  }
  return undefined;
}
