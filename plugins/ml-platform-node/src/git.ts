import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_ALLOWED_GIT_SCHEMES,
  GIT_TRANSPORTS,
  checkBranchName,
  redactUrlCredentials,
} from './gitInput';

/** A failed `git` command, with what git printed. @public */
export class GitCommandError extends Error {
  readonly name = 'GitCommandError';
  readonly args: string[];
  readonly stderr: string;
  constructor(
    args: string[],
    readonly exitCode: number | null,
    stderr: string,
  ) {
    // Git may echo a URL it was given; credentials never leave in a message.
    super(
      redactUrlCredentials(
        `git ${GitCommandError.command(args)} failed${
          exitCode !== null ? ` (exit ${exitCode})` : ''
        }: ${
          stderr
            .split('\n')
            .map(l => l.trim())
            .filter(Boolean)
            .slice(0, 3)
            .join(' ') || 'no output'
        }`,
      ),
    );
    this.args = args.map(redactUrlCredentials);
    this.stderr = redactUrlCredentials(stderr);
  }

  /** The subcommand, past the global options runGit adds. */
  private static command(args: string[]): string {
    for (let i = 0; i < args.length; i++) {
      if (
        args[i] === '-c' ||
        args[i] === '--git-dir' ||
        args[i] === '--work-tree'
      )
        i++;
      else if (!args[i].startsWith('-')) return args[i];
    }
    return args[0] ?? '';
  }
}

function transportsOnly(allowProtocol: string): string {
  return allowProtocol
    .split(':')
    .filter(p => GIT_TRANSPORTS.has(p))
    .join(':');
}

/**
 * Runs the real `git` binary without a shell and without prompting for
 * credentials; resolves with its stdout. The `ext::` transport is off and
 * only the transports of `GIT_ALLOW_PROTOCOL` work (by default those of
 * `mlPlatform.git.allowedSchemes`' default; callers pass their policy's
 * through `env`, see `gitProtocolEnv`). Callers put `--` before positional
 * arguments that come from users.
 *
 * @public
 */
export function runGit(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    timeoutMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'protocol.ext.allow=never', ...args],
      {
        cwd: options.cwd,
        env: {
          ...process.env,
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: 'true',
          ...options.env,
          // It overrides protocol.ext.allow: ext never gets in through it.
          GIT_ALLOW_PROTOCOL: transportsOnly(
            options.env?.GIT_ALLOW_PROTOCOL ??
              DEFAULT_ALLOWED_GIT_SCHEMES.join(':'),
          ),
        },
        timeout: options.timeoutMs,
        signal: options.signal,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          reject(
            new GitCommandError(args, code, String(stderr || error.message)),
          );
        } else {
          resolve(String(stdout));
        }
      },
    );
  });
}

/**
 * Commits the files of a directory and pushes them as the first commit of a
 * new bare repository. The directory itself is not turned into a repository
 * (a throwaway git dir points at it). Resolves with the commit SHA.
 *
 * @public
 */
export async function publishDirectory(options: {
  sourceDir: string;
  repoPath: string;
  branch: string;
  message: string;
  author: { name: string; email: string };
  /** Patterns left out of the commit, gitignore syntax. */
  exclude?: string[];
}): Promise<string> {
  const problem = await checkBranchName(options.branch);
  if (problem) throw new Error(`branch "${options.branch}": ${problem}`);
  const gitDir = await fs.promises.mkdtemp(
    path.join(os.tmpdir(), 'mlp-publish-'),
  );
  const env = {
    GIT_AUTHOR_NAME: options.author.name,
    GIT_AUTHOR_EMAIL: options.author.email,
    GIT_COMMITTER_NAME: options.author.name,
    GIT_COMMITTER_EMAIL: options.author.email,
  };
  const git = (args: string[]) =>
    runGit(['--git-dir', gitDir, '--work-tree', options.sourceDir, ...args], {
      env,
    });
  const initBare = (dir: string) =>
    runGit(['init', '--quiet', '--bare', '-b', options.branch, '--', dir]);
  try {
    await initBare(gitDir);
    await git(['config', 'core.bare', 'false']);
    if (options.exclude?.length) {
      await fs.promises.writeFile(
        path.join(gitDir, 'info', 'exclude'),
        `${options.exclude.join('\n')}\n`,
      );
    }
    await git(['add', '--all']);
    await git(['commit', '--quiet', '--no-verify', '-m', options.message]);
    await fs.promises.mkdir(path.dirname(options.repoPath), {
      recursive: true,
    });
    await initBare(options.repoPath);
    await git([
      'push',
      '--quiet',
      '--',
      options.repoPath,
      `HEAD:refs/heads/${options.branch}`,
    ]);
    return (await git(['rev-parse', '--verify', 'HEAD'])).trim();
  } catch (error) {
    await fs.promises.rm(options.repoPath, { recursive: true, force: true });
    throw error;
  } finally {
    await fs.promises.rm(gitDir, { recursive: true, force: true });
  }
}
