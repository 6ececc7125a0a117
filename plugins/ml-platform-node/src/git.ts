import { execFile } from 'node:child_process';

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
