import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A failed `git` command, with what git printed. @public */
export class GitCommandError extends Error {
  readonly name = 'GitCommandError';
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(
      `git ${args[0]} failed${
        exitCode !== null ? ` (exit ${exitCode})` : ''
      }: ${
        stderr
          .split('\n')
          .map(l => l.trim())
          .filter(Boolean)
          .slice(0, 3)
          .join(' ') || 'no output'
      }`,
    );
  }
}

/**
 * Runs the real `git` binary without a shell and without prompting for
 * credentials; resolves with its stdout.
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
      args,
      {
        cwd: options.cwd,
        env: {
          ...process.env,
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: 'true',
          ...options.env,
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
  try {
    await runGit(['init', '--quiet', '--bare', '-b', options.branch, gitDir]);
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
    await runGit([
      'init',
      '--quiet',
      '--bare',
      '-b',
      options.branch,
      options.repoPath,
    ]);
    await git([
      'push',
      '--quiet',
      options.repoPath,
      `HEAD:refs/heads/${options.branch}`,
    ]);
    return (await git(['rev-parse', 'HEAD'])).trim();
  } catch (error) {
    await fs.promises.rm(options.repoPath, { recursive: true, force: true });
    throw error;
  } finally {
    await fs.promises.rm(gitDir, { recursive: true, force: true });
  }
}
