import { spawn } from 'node:child_process';
import readline from 'node:readline';

export interface RunProcessOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the process (group) after this long. */
  timeoutMs?: number;
  /** Aborting kills the process (group). */
  signal?: AbortSignal;
  /** Every line of stdout and stderr, as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  input?: string;
  /** Receives stdout as bytes instead of `onLine` (e.g. a tarball). */
  stdout?: NodeJS.WritableStream;
}

export interface RunProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last lines of output, for one-sentence failure reasons. */
  tail: string[];
}

/**
 * Runs a command in its own process group, so a timeout or cancel also stops
 * whatever it started (pip, test runners); never rejects on a non-zero exit.
 */
export function runProcess(
  options: RunProcessOptions,
): Promise<RunProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const tail: string[] = [];
    let timedOut = false;
    let aborted = false;

    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs)
        : undefined;
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const piped = options.stdout
      ? new Promise<void>((done, fail) => {
          child.stdout!.pipe(options.stdout!);
          options.stdout!.once('finish', done);
          options.stdout!.once('error', fail);
        })
      : Promise.resolve();
    for (const stream of options.stdout
      ? (['stderr'] as const)
      : (['stdout', 'stderr'] as const)) {
      readline.createInterface({ input: child[stream]! }).on('line', line => {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        options.onLine?.(line, stream);
      });
    }
    if (options.input !== undefined) {
      child.stdin!.end(options.input);
    }

    child.once('error', error => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    // 'close' waits for the output streams, so every line was delivered.
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      piped.then(
        () => resolve({ exitCode, signal, timedOut, aborted, tail }),
        reject,
      );
    });
  });
}
