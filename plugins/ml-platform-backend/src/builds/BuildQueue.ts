import { LoggerService } from '@backstage/backend-plugin-api';
import { ModelBuild } from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import { PlatformStores } from '../database';
import { BuildRunner } from './BuildRunner';
import { errorMeta } from '../util/logging';

/** Abort reason of a backend shutdown. */
class InterruptedError extends Error {
  constructor() {
    super('Interrupted: the backend shut down');
  }
  toString() {
    return this.message;
  }
}

export interface BuildQueueOptions {
  stores: Pick<PlatformStores, 'builds'>;
  runner: Pick<BuildRunner, 'run'>;
  logger: LoggerService;
  concurrency: number;
  heartbeatMs: number;
  staleAfterMs: number;
  timeoutMs: number;
  /** Called after every build that ends, e.g. to notify owners. */
  onFinished?: (build: ModelBuild) => Promise<void> | void;
}

/**
 * The durable build queue: queued builds live in the database, so they run
 * after a restart; this instance claims them up to `concurrency`, keeps them
 * alive with heartbeats, honours cancel requests, and fails builds whose
 * runner vanished (a crashed or restarted backend).
 */
export class BuildQueue {
  readonly workerId = randomUUID();
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private claiming = false;
  private stopped = true;

  constructor(private readonly options: BuildQueueOptions) {}

  async start() {
    this.stopped = false;
    await this.failStaleBuilds();
    this.tick();
  }

  /** Claims work now rather than at the next heartbeat. */
  wake() {
    if (!this.stopped) void this.claim();
  }

  /** Stops a build this instance runs; true when it was running here. */
  abortLocal(buildId: string, reason: string): boolean {
    const controller = this.running.get(buildId);
    controller?.abort(reason);
    return !!controller;
  }

  /**
   * Backend shutdown: running builds end as failed (interrupted) rather
   * than being left "running".
   */
  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const controller of this.running.values()) {
      controller.abort(new InterruptedError());
    }
    await Promise.allSettled([...this.finished]);
  }

  private tick() {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      try {
        await this.heartbeat();
        await this.failStaleBuilds();
        await this.claim();
      } catch (error) {
        this.options.logger.warn('build queue tick failed', errorMeta(error));
      } finally {
        this.tick();
      }
    }, this.options.heartbeatMs);
  }

  private async heartbeat() {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    await this.options.stores.builds.heartbeatBuilds(ids);
    for (const id of await this.options.stores.builds.listCancelRequested(
      ids,
    )) {
      this.abortLocal(id, 'Cancelled');
    }
  }

  private async failStaleBuilds() {
    const before = new Date(Date.now() - this.options.staleAfterMs);
    for (const build of await this.options.stores.builds.listStaleBuilds(
      before,
    )) {
      if (this.running.has(build.id)) continue;
      this.options.logger.warn('build interrupted; marking it failed', {
        buildId: build.id,
        model: build.modelRef,
      });
      const steps = build.steps.map(s =>
        s.status === 'running' || s.status === 'pending'
          ? {
              ...s,
              status:
                s.status === 'running'
                  ? ('failed' as const)
                  : ('skipped' as const),
            }
          : s,
      );
      // The log is complete before the status says the build ended.
      await this.options.stores.builds.appendBuildLog(build.id, [
        { line: 'Build failed: interrupted, the backend running it stopped' },
      ]);
      const failed = await this.options.stores.builds.updateBuild(build.id, {
        status: 'failed',
        steps,
        failureReason:
          'Interrupted: the backend running this build stopped before it finished',
        finishedAt: new Date().toISOString(),
      });
      await this.options.onFinished?.(failed);
    }
  }

  private async claim() {
    if (this.claiming) return;
    this.claiming = true;
    try {
      while (!this.stopped && this.running.size < this.options.concurrency) {
        const build = await this.options.stores.builds.claimNextBuild(
          this.workerId,
        );
        if (!build) break;
        this.launch(build);
      }
    } finally {
      this.claiming = false;
    }
  }

  private async execute(build: ModelBuild, controller: AbortController) {
    try {
      const result = await this.options.runner.run(build, controller.signal);
      if (controller.signal.reason instanceof InterruptedError) {
        await this.options.stores.builds.updateBuild(build.id, {
          status: 'failed',
          failureReason:
            'Interrupted: the backend shut down while this build was running',
        });
      } else {
        await this.options.onFinished?.(result);
      }
    } catch (error) {
      this.options.logger.error('build crashed', {
        buildId: build.id,
        model: build.modelRef,
        ...errorMeta(error),
      });
    }
  }

  private launch(build: ModelBuild) {
    const controller = new AbortController();
    this.running.set(build.id, controller);
    const timeout = setTimeout(
      () =>
        controller.abort(
          `Timed out: the build took longer than ${Math.round(
            this.options.timeoutMs / 1000,
          )} s`,
        ),
      this.options.timeoutMs,
    );
    const done: Promise<void> = this.execute(build, controller).finally(() => {
      clearTimeout(timeout);
      this.running.delete(build.id);
      this.finished.delete(done);
      this.wake();
    });
    this.finished.add(done);
  }
}
