import path from 'node:path';
import { SANDBOX_PATH } from '../../sandbox/Sandbox';
import { runProcess } from '../../util/runProcess';
import { pipEnv } from '../virtualenv';
import { BuildContext, BuildStepName, StepFailure } from './types';

/** How long one step may run (`mlPlatform.builds.stepTimeout`). */
export function stepTimeout(ctx: BuildContext): number {
  return ctx.services.config.builds.stepTimeoutMs;
}

/** A step failure for a command that ran out of time. */
export function timedOut(ctx: BuildContext): StepFailure {
  return new StepFailure(
    `timed out after ${Math.round(stepTimeout(ctx) / 1000)} s`,
  );
}

/**
 * The whole environment of the build's commands: `python3` is the build's
 * venv, HOME is in the workspace; nothing of the backend's environment.
 */
export function venvEnv(ctx: BuildContext): Record<string, string> {
  const { sandbox, config } = ctx.services;
  return sandbox.env(ctx.ws.home, {
    ...pipEnv(config.builds.pip),
    VIRTUAL_ENV: ctx.ws.venv,
    PATH: `${path.join(ctx.ws.venv, 'bin')}:${SANDBOX_PATH}`,
    TMPDIR: ctx.ws.home,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
  });
}

/**
 * Runs a command of a step in the sandbox, its output going to the build
 * log (or to `stdout`).
 */
export async function exec(
  ctx: BuildContext,
  step: BuildStepName,
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    stdout?: NodeJS.WritableStream;
  } = {},
) {
  const result = await runProcess({
    ...ctx.services.sandbox.wrap('build', command, args),
    cwd: options.cwd,
    env: options.env ?? venvEnv(ctx),
    timeoutMs: stepTimeout(ctx),
    signal: ctx.signal,
    stdout: options.stdout,
    onLine: line => ctx.log.write(step, line),
  });
  if (result.timedOut) throw timedOut(ctx);
  return result;
}
