import type { Config } from '@backstage/config';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMlPlatformPaths } from './paths';

/**
 * Checks for every user-controlled value that reaches `git`: commit SHAs,
 * branch names and clone URLs. Nothing here throws: each check answers with
 * the problem in words (for a 400 naming the field) or undefined when fine.
 */

/** An abbreviated or full commit SHA, as the API accepts it. @public */
export { COMMIT_SHA } from '@internal/plugin-ml-platform-common';

/** A full SHA-1 or SHA-256 object name, as Git servers report them. @public */
export const FULL_COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** Longest branch name the platform accepts (Git refs are file names). @public */
export const MAX_BRANCH_LENGTH = 255;

/** Longest clone URL the platform accepts. @public */
export const MAX_GIT_URL_LENGTH = 2048;

/** Which clone URLs builds may use: `mlPlatform.git.*`. @public */
export interface GitUrlPolicy {
  /** `mlPlatform.git.allowedSchemes`, lower case. */
  allowedSchemes: string[];
  /** `file` URLs (and local paths) must point under this directory. */
  gitRoot: string;
}

/** The default of `mlPlatform.git.allowedSchemes`. @public */
export const DEFAULT_ALLOWED_GIT_SCHEMES = ['https', 'ssh', 'file'];

/**
 * Schemes `git` has a built-in transport for; `ext::` and other remote
 * helpers are never allowed.
 *
 * @public
 */
export const GIT_TRANSPORTS: ReadonlySet<string> = new Set([
  'https',
  'http',
  'ssh',
  'git',
  'file',
]);

/** @public */
export function readGitUrlPolicy(config: Config): GitUrlPolicy {
  const schemes =
    config.getOptionalStringArray('mlPlatform.git.allowedSchemes') ??
    DEFAULT_ALLOWED_GIT_SCHEMES;
  for (const scheme of schemes) {
    if (!GIT_TRANSPORTS.has(scheme.toLowerCase())) {
      throw new Error(
        `mlPlatform.git.allowedSchemes: "${scheme}" is not one of ${[
          ...GIT_TRANSPORTS,
        ].join(', ')}`,
      );
    }
  }
  return {
    allowedSchemes: schemes.map(s => s.toLowerCase()),
    gitRoot: readMlPlatformPaths(config).gitRoot,
  };
}

/**
 * `GIT_ALLOW_PROTOCOL` for the policy: git itself refuses any other transport,
 * also on redirects and submodules.
 *
 * @public
 */
export function gitProtocolEnv(policy: GitUrlPolicy): Record<string, string> {
  return { GIT_ALLOW_PROTOCOL: policy.allowedSchemes.join(':') };
}

/** Whether `child` is `root` or inside it, symlinks resolved where they exist. */
function isInside(root: string, child: string): boolean {
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      // Not there (yet): resolve the parent that is.
      const parent = path.dirname(p);
      return parent === p ? p : path.join(real(parent), path.basename(p));
    }
  };
  const r = real(path.resolve(root));
  const c = real(path.resolve(child));
  return c === r || c.startsWith(`${r}${path.sep}`);
}

/**
 * What is wrong with a clone URL under the policy, or undefined. Refuses
 * anything git could read as an option, remote helpers (`ext::`), schemes
 * outside the allow-list, `file` URLs outside the git root, and credentials
 * inside the URL (they belong in `integrations`).
 *
 * @public
 */
export function checkCloneUrl(
  url: string,
  policy: GitUrlPolicy,
): string | undefined {
  if (url.length === 0) return 'expected a Git clone URL';
  if (url.length > MAX_GIT_URL_LENGTH) {
    return `expected at most ${MAX_GIT_URL_LENGTH} characters`;
  }
  if (url.startsWith('-')) return 'a clone URL cannot start with "-"';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(url)) {
    return 'a clone URL cannot contain spaces or control characters';
  }
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) {
    return 'remote helper URLs (<transport>::<address>) are not allowed';
  }
  const allowed = policy.allowedSchemes;
  const schemeNotAllowed = (scheme: string) =>
    `the ${scheme} scheme is not allowed (mlPlatform.git.allowedSchemes: ${allowed.join(
      ', ',
    )})`;

  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!schemeMatch) {
    // scp-like ssh (`user@host:path`), else a local path.
    const scp = /^(?:([^@/:]+)@)?([^/:]+):(.*)$/.exec(url);
    if (scp && !url.startsWith('/') && !url.startsWith('.')) {
      if (!allowed.includes('ssh')) return schemeNotAllowed('ssh');
      if (scp[1]?.includes(':')) return 'credentials inside the URL';
      if (scp[2].startsWith('-') || scp[3].startsWith('-')) {
        return 'a host or path cannot start with "-"';
      }
      return undefined;
    }
    return checkFilePath(url, policy);
  }
  const scheme = schemeMatch[1].toLowerCase();
  if (!GIT_TRANSPORTS.has(scheme) || !allowed.includes(scheme)) {
    return schemeNotAllowed(scheme);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'expected a Git clone URL';
  }
  if (scheme === 'file') {
    if (parsed.host && parsed.host !== 'localhost') {
      return 'file URLs cannot name a host';
    }
    let filePath: string;
    try {
      filePath = fileURLToPath(parsed);
    } catch {
      return 'expected a file URL of a directory';
    }
    return checkFilePath(filePath, policy);
  }
  if (parsed.password) {
    return 'credentials inside the URL are not allowed; configure them in integrations';
  }
  // A token is often sent as the user name: only ssh has plain user names.
  if (parsed.username && scheme !== 'ssh') {
    return 'credentials inside the URL are not allowed; configure them in integrations';
  }
  if (!parsed.hostname || parsed.hostname.startsWith('-')) {
    return 'expected a host name';
  }
  if (parsed.pathname.startsWith('/-')) return 'a path cannot start with "-"';
  return undefined;
}

function checkFilePath(
  filePath: string,
  policy: GitUrlPolicy,
): string | undefined {
  if (!policy.allowedSchemes.includes('file')) {
    return `local repositories are not allowed (mlPlatform.git.allowedSchemes: ${policy.allowedSchemes.join(
      ', ',
    )})`;
  }
  if (!path.isAbsolute(filePath) || !isInside(policy.gitRoot, filePath)) {
    return `local repositories must be under mlPlatform.git.root (${policy.gitRoot})`;
  }
  return undefined;
}

/**
 * A URL, or text holding URLs, with the credentials inside them replaced by
 * `***` (plain ssh user names such as `git@` stay).
 *
 * @public
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]+)@/gi,
    (whole, scheme: string, userinfo: string) =>
      /^ssh:/i.test(scheme) && !userinfo.includes(':')
        ? whole
        : `${scheme}***@`,
  );
}

/**
 * What is wrong with a branch name, or undefined: bounded, not an option,
 * and a valid ref by `git check-ref-format` itself.
 *
 * @public
 */
export async function checkBranchName(
  branch: string,
): Promise<string | undefined> {
  const quick = checkBranchNameSyntax(branch);
  if (quick) return quick;
  const valid = await new Promise<boolean>(resolve => {
    // The name is part of one argument that starts with refs/heads/.
    execFile(
      'git',
      ['check-ref-format', `refs/heads/${branch}`],
      { timeout: 10_000 },
      error => resolve(!error),
    );
  });
  return valid ? undefined : 'not a valid branch name (git check-ref-format)';
}

/**
 * The checks of {@link checkBranchName} that need no `git`: for request
 * schemas, before the real check.
 *
 * @public
 */
export function checkBranchNameSyntax(branch: string): string | undefined {
  if (branch.length === 0) return 'expected a branch name';
  if (branch.length > MAX_BRANCH_LENGTH) {
    return `expected at most ${MAX_BRANCH_LENGTH} characters`;
  }
  if (branch.startsWith('-')) return 'a branch name cannot start with "-"';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f~^:?*[\\]/.test(branch)) {
    return 'expected a branch name';
  }
  return undefined;
}
