import type { Entity } from '@backstage/catalog-model';
import { ANNOTATION_SOURCE_LOCATION } from '@internal/plugin-ml-platform-common';

/**
 * The web URL of the entity's repository location, when its
 * `backstage.io/source-location` is an http(s) URL (`url:https://…`).
 */
export function sourceLocationUrl(entity: Entity): URL | undefined {
  const raw = entity.metadata.annotations?.[ANNOTATION_SOURCE_LOCATION];
  if (!raw) {
    return undefined;
  }
  const target = raw.startsWith('url:') ? raw.slice('url:'.length) : raw;
  try {
    const url = new URL(target);
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? url
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Link to one commit on the repository's web UI. Source locations point into
 * a tree (`…/tree/main/models/churn`), so the repository root is found from
 * each host family's path convention.
 */
export function commitUrl(source: URL, sha: string): string {
  const path = source.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  const origin = source.origin;
  // GitLab: /group/repo/-/tree/main/...
  if (path.includes('/-/')) {
    return `${origin}${path.split('/-/')[0]}/-/commit/${sha}`;
  }
  // Azure DevOps: /org/project/_git/repo?path=...
  const azure = path.match(/^(.*\/_git\/[^/]+)/);
  if (azure) {
    return `${origin}${azure[1]}/commit/${sha}`;
  }
  // Bitbucket Cloud: /workspace/repo/src/main/...
  if (source.hostname.includes('bitbucket')) {
    const root = path.match(
      /^(\/projects\/[^/]+\/repos\/[^/]+|\/[^/]+\/[^/]+)/,
    );
    return `${origin}${root ? root[1] : path}/commits/${sha}`;
  }
  // GitHub, GitHub Enterprise, Gitea: /owner/repo/tree|blob/main/...
  const tree = path.match(/^(.*?)\/(tree|blob|src)\//);
  return `${origin}${tree ? tree[1] : path}/commit/${sha}`;
}
