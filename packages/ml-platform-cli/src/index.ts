/**
 * `mlp`, the command line of the ML platform.
 *
 * @packageDocumentation
 */
import { run } from './program';

export { run, createProgram } from './program';
export type { Io, OutStream } from './lib/io';
export { ExitCode } from './lib/errors';

/** The `mlp` binary: the process's streams, Ctrl-C stops waits and follows. */
export function cli() {
  // `mlp ... | head`: the reader left, nothing more to say.
  process.stdout.on('error', error => {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    throw error;
  });
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort(new Error('interrupted'));
    // A second Ctrl-C does not wait for anything.
    process.once('SIGINT', () => process.exit(130));
  });
  run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    fetch: (...args) => fetch(...args),
    signal: controller.signal,
  }).then(
    code => {
      process.exitCode = controller.signal.aborted && code !== 0 ? 130 : code;
    },
    error => {
      process.stderr.write(`mlp: ${error?.message ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
