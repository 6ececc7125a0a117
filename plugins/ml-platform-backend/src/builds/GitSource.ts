import { Config } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { ScmIntegrations } from '@backstage/integration';
import {
  ANNOTATION_GIT_PATH,
  ANNOTATION_GIT_URL,
  ANNOTATION_MANIFEST_PATH,
  ANNOTATION_SOURCE_LOCATION,
} from '@internal/plugin-ml-platform-common';
import { InputError } from '@backstage/errors';
import {
  FULL_COMMIT_SHA,
  GitUrlPolicy,
  checkBranchName,
  checkBranchNameSyntax,
  checkCloneUrl,
  gitProtocolEnv,
  readGitUrlPolicy,
  redactUrlCredentials,
  runGit,
} from '@internal/plugin-ml-platform-node';

/** The branch automatic builds follow unless the entity says otherwise. */
export const ANNOTATION_GIT_BRANCH = 'ml-platform/git-branch';

/** Where a model's code lives: a clonable URL, a directory in it, a branch. */
export interface ModelSource {
  url: string;
  /** Directory of the model inside the repository; '' for the root. */
  path: string;
  branch?: string;
  manifestPath?: string;
}

function trimSlashes(p: string) {
  return p.replace(/^\/+|\/+$/g, '');
}

/**
 * Turns a browsable repository URL into a clone URL, a branch and a
 * directory: GitHub `/tree/<branch>/<path>`, GitLab `/-/tree/<branch>/<path>`,
 * or anything `git` can clone as it is.
 */
export function parseRepositoryUrl(raw: string): ModelSource {
  const url = raw.replace(/^url:/, '');
  const web = url.match(
    /^(https?:\/\/[^/]+\/[^?#]+?)(?:\.git)?\/(?:-\/)?(?:tree|blob)\/([^/?#]+)\/?([^?#]*)/,
  );
  if (web) {
    const [, repo, branch, dir] = web;
    return { url: `${repo}.git`, branch, path: trimSlashes(dir) };
  }
  const plain = url.match(/^(https?:\/\/[^/]+\/[^?#]+?)(?:\.git)?\/?$/);
  if (plain) {
    return { url: `${plain[1]}.git`, path: '' };
  }
  return { url, path: '' };
}

/**
 * The model's source from its catalog entity: `ml-platform/git-url` (+ path,
 * branch) when set, else `backstage.io/source-location`.
 */
export function sourceFromEntity(entity: Entity): ModelSource | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const manifestPath = annotations[ANNOTATION_MANIFEST_PATH];
  const branch = annotations[ANNOTATION_GIT_BRANCH];
  if (annotations[ANNOTATION_GIT_URL]) {
    return {
      url: annotations[ANNOTATION_GIT_URL],
      path: trimSlashes(annotations[ANNOTATION_GIT_PATH] ?? ''),
      branch,
      manifestPath,
    };
  }
  const location = annotations[ANNOTATION_SOURCE_LOCATION];
  if (location?.startsWith('url:')) {
    const parsed = parseRepositoryUrl(location);
    return {
      ...parsed,
      path: annotations[ANNOTATION_GIT_PATH]
        ? trimSlashes(annotations[ANNOTATION_GIT_PATH])
        : parsed.path,
      branch: branch ?? parsed.branch,
      manifestPath,
    };
  }
  return undefined;
}

/**
 * Git credentials for clone URLs of configured integrations, handed to git
 * through `GIT_CONFIG_*` variables: never in a URL, an argument or a log.
 */
export class GitCredentials {
  private readonly integrations: ScmIntegrations;

  constructor(config: Config) {
    this.integrations = ScmIntegrations.fromConfig(config);
  }

  /** Environment for a git command against `url`. */
  envFor(url: string): Record<string, string> {
    const header = this.authorizationHeader(url);
    if (!header) return {};
    return {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: ${header}`,
    };
  }

  /** Every secret that must be masked in build logs. */
  secrets(): string[] {
    const tokens = [
      ...this.integrations.github.list().map(i => i.config.token),
      ...this.integrations.gitlab.list().map(i => i.config.token),
    ].filter((t): t is string => !!t);
    return tokens.flatMap(t => [t, this.basic(this.userFor(t), t)]);
  }

  private authorizationHeader(url: string): string | undefined {
    if (!/^https?:/.test(url)) return undefined;
    const github = this.integrations.github.byUrl(url);
    if (github?.config.token) {
      return this.basic('x-access-token', github.config.token);
    }
    const gitlab = this.integrations.gitlab.byUrl(url);
    if (gitlab?.config.token) {
      return this.basic('oauth2', gitlab.config.token);
    }
    return undefined;
  }

  private userFor(token: string) {
    return this.integrations.gitlab.list().some(i => i.config.token === token)
      ? 'oauth2'
      : 'x-access-token';
  }

  private basic(user: string, token: string) {
    return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  }
}

/**
 * The platform's access to Git servers: which clone URLs it may use
 * (`mlPlatform.git.allowedSchemes`, `file` only under `mlPlatform.git.root`)
 * and the environment of each git command (integration credentials and
 * `GIT_ALLOW_PROTOCOL`).
 */
export class GitRemotes {
  readonly policy: GitUrlPolicy;
  private readonly credentials: GitCredentials;

  constructor(config: Config) {
    this.policy = readGitUrlPolicy(config);
    this.credentials = new GitCredentials(config);
  }

  /** What is wrong with the URL under the policy, or undefined. */
  problem(url: string): string | undefined {
    return checkCloneUrl(url, this.policy);
  }

  /** Throws an InputError naming `field` unless the policy allows the URL. */
  assertAllowed(url: string, field: string): void {
    const problem = this.problem(url);
    if (problem) {
      throw new InputError(
        `${field}: ${redactUrlCredentials(url).slice(0, 200)}: ${problem}`,
      );
    }
  }

  /** Environment for a git command against `url`. */
  envFor(url: string): Record<string, string> {
    return {
      ...this.credentials.envFor(url),
      ...gitProtocolEnv(this.policy),
    };
  }

  /** Every secret that must be masked in build logs. */
  secrets(): string[] {
    return this.credentials.secrets();
  }
}

/** Throws an InputError naming `field` unless `branch` is a valid branch name. */
export async function assertBranchName(branch: string, field: string) {
  const problem = await checkBranchName(branch);
  if (problem) throw new InputError(`${field}: ${problem}`);
}

/**
 * The commit a branch points at, or undefined when the branch is missing.
 * The branch must have passed {@link assertBranchName}.
 */
export async function resolveBranch(
  url: string,
  branch: string,
  env: Record<string, string>,
): Promise<string | undefined> {
  const out = await runGit(['ls-remote', '--', url, `refs/heads/${branch}`], {
    env,
    timeoutMs: 60_000,
  });
  const line = out.split('\n').find(l => l.endsWith(`refs/heads/${branch}`));
  const sha = line?.split(/\s+/)[0];
  // Whatever the server says is checked like user input.
  return sha && FULL_COMMIT_SHA.test(sha) ? sha : undefined;
}

/** The branch HEAD of a remote points at (its default branch). */
export async function resolveDefaultBranch(
  url: string,
  env: Record<string, string>,
): Promise<string | undefined> {
  const out = await runGit(['ls-remote', '--symref', '--', url, 'HEAD'], {
    env,
    timeoutMs: 60_000,
  });
  const branch = out.match(/^ref: refs\/heads\/(\S+)\s+HEAD/m)?.[1];
  return branch && !checkBranchNameSyntax(branch) ? branch : undefined;
}
