import {
  BatchExecution,
  MlPlatformApi,
  ModelBuild,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import { CliError } from './errors';
import { sleep } from './io';
import { duration } from './output';

const BUILD_DONE = ['succeeded', 'failed', 'cancelled'];
const EXECUTION_DONE = ['succeeded', 'failed', 'cancelled'];

interface WaitOptions<T> {
  /** Give up after this many seconds. */
  timeoutSeconds?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called with every state read, e.g. to draw progress. */
  onUpdate?(value: T): void;
}

async function poll<T>(
  what: string,
  read: () => Promise<T>,
  isDone: (value: T) => boolean,
  options: WaitOptions<T>,
): Promise<T> {
  const deadline =
    options.timeoutSeconds !== undefined
      ? Date.now() + options.timeoutSeconds * 1000
      : Infinity;
  for (;;) {
    const value = await read();
    options.onUpdate?.(value);
    if (isDone(value)) return value;
    if (Date.now() > deadline) {
      throw new CliError(
        `gave up waiting for ${what} after ${duration(options.timeoutSeconds)}`,
      );
    }
    await sleep(options.intervalMs ?? 500, options.signal);
  }
}

/** Waits until the build ends, whichever way. */
export function waitForBuild(
  api: MlPlatformApi,
  id: string,
  options: WaitOptions<ModelBuild> = {},
): Promise<ModelBuild> {
  return poll(
    `build ${id}`,
    () => api.getBuild(id),
    b => BUILD_DONE.includes(b.status),
    options,
  );
}

/**
 * Waits until the deployment runs `buildId` with its replicas ready (a batch
 * deployment is ready at once); fails when it fails.
 */
export function waitForDeployment(
  api: MlPlatformApi,
  id: string,
  buildId: string,
  options: WaitOptions<ModelDeployment> = {},
): Promise<ModelDeployment> {
  return poll(
    `deployment ${id} to be ready`,
    () => api.getDeployment(id),
    d => {
      // A crash loop of the build being rolled out will not heal by waiting.
      if (
        d.status === 'failed' ||
        (d.status === 'degraded' && d.buildId === buildId && !d.readyReplicas)
      ) {
        throw new CliError(
          `deployment ${id} is ${d.status}: ${d.reason ?? 'no reason given'}`,
        );
      }
      return d.status === 'ready' && d.buildId === buildId;
    },
    options,
  );
}

/** Waits until the execution ends, whichever way. */
export function waitForExecution(
  api: MlPlatformApi,
  id: string,
  options: WaitOptions<BatchExecution> = {},
): Promise<BatchExecution> {
  return poll(
    `execution ${id}`,
    () => api.getExecution(id),
    e => EXECUTION_DONE.includes(e.status),
    options,
  );
}
