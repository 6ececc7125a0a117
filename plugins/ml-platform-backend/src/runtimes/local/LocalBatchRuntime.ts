import {
  BatchChunkOutcome,
  BatchChunkSpec,
  BatchExecutionSpec,
  BatchRunOptions,
  BatchRuntime,
  ModelPackages,
} from '@internal/plugin-ml-platform-node';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalBatchWorkers } from './LocalBatchWorkers';
import type { LocalSandbox } from './LocalRuntime';

/** Chunks on this host are `file:` URIs; the workers take paths. */
function localPath(uri: string, what: string): string {
  if (!uri.startsWith('file:')) {
    throw new Error(`The local runtime reads ${what} from files, not ${uri}`);
  }
  return fileURLToPath(uri);
}

/**
 * Batch on this host: `parallelism` worker processes (each loads the model
 * once) take chunks as the planner yields them, a little ahead of the
 * workers; a failed chunk is retried with backoff on the next free worker.
 * Workers that finished an execution stay up for `workerIdleMs`, so the next
 * execution of the same build does not pay the interpreter start, imports
 * (pandas: ~0.25 CPU s per worker) and model load again.
 */
export class LocalBatchRuntime implements BatchRuntime {
  private readonly pools = new Set<LocalBatchWorkers>();
  /** Idle workers by build, until their timer stops them. */
  private readonly warm = new Map<
    string,
    { pool: LocalBatchWorkers; timer: NodeJS.Timeout }
  >();
  private shuttingDown = false;

  constructor(
    private readonly options: {
      packages: ModelPackages;
      readyTimeoutMs: number;
      /** Worker processes run contained in it, when given. */
      sandbox?: LocalSandbox;
      /** How long idle workers wait for the next execution of their build; 0: none. */
      workerIdleMs?: number;
    },
  ) {}

  async run(
    spec: BatchExecutionSpec,
    chunks: AsyncIterable<BatchChunkSpec>,
    options: BatchRunOptions,
  ): Promise<{ ok: boolean }> {
    if (this.shuttingDown) throw new Error('The runtime is shutting down');
    const pkg = await this.options.packages.get(spec.build);
    const workersSpec = {
      executionId: spec.executionId,
      package: pkg,
      workers: spec.parallelism,
    };
    const key = JSON.stringify([
      pkg.artifactDigest,
      pkg.modelDir,
      pkg.entrypoint,
      pkg.schemaFile,
      pkg.python,
    ]);
    const warm = this.takeWarm(key);
    warm?.reuse(workersSpec, options.onLog);
    const pool =
      warm ??
      (await LocalBatchWorkers.start(workersSpec, {
        onLog: options.onLog,
        readyTimeoutMs: this.options.readyTimeoutMs,
        sandbox: this.options.sandbox,
      }));
    this.pools.add(pool);
    // A chunk that failed for good stops the others, as a cancel does.
    const halt = new AbortController();
    const signal = AbortSignal.any([options.signal, halt.signal]);
    // Chunks still running end at once (as worker_crashed, not reported).
    signal.addEventListener('abort', () => void pool.close(), { once: true });
    const inFlight = new Set<Promise<void>>();
    const outcome: { failure?: unknown; failedForGood: boolean } = {
      failedForGood: false,
    };
    try {
      for await (const chunk of chunks) {
        if (signal.aborted) break;
        // Keep the planner a little ahead of the workers, not the whole file.
        while (inFlight.size >= spec.parallelism * 2)
          await Promise.race(inFlight);
        if (signal.aborted) break;
        const task: Promise<void> = this.runChunk(spec, chunk, pool, {
          ...options,
          signal,
        })
          .then(
            ok => {
              if (!ok) outcome.failedForGood = true;
            },
            error => {
              outcome.failure ??= error;
            },
          )
          .finally(() => {
            inFlight.delete(task);
            if (outcome.failure !== undefined || outcome.failedForGood)
              halt.abort();
          });
        inFlight.add(task);
      }
      await Promise.all(inFlight);
      if (outcome.failure !== undefined) throw outcome.failure;
      return { ok: !outcome.failedForGood };
    } finally {
      this.pools.delete(pool);
      // Only workers of a run that ended well wait for the next one.
      if (!signal.aborted && pool.reusable) this.keepWarm(key, pool);
      else await pool.close();
    }
  }

  /** Local work stops with its run (the signal); nothing runs elsewhere. */
  async cancel(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const warm = [...this.warm.keys()].map(key => this.takeWarm(key)!);
    await Promise.all([...this.pools, ...warm].map(pool => pool.close()));
  }

  private takeWarm(key: string): LocalBatchWorkers | undefined {
    const entry = this.warm.get(key);
    if (!entry) return undefined;
    this.warm.delete(key);
    clearTimeout(entry.timer);
    return entry.pool.reusable ? entry.pool : void entry.pool.close();
  }

  private keepWarm(key: string, pool: LocalBatchWorkers) {
    const idleMs = this.options.workerIdleMs ?? 0;
    if (idleMs <= 0 || this.shuttingDown) {
      void pool.close();
      return;
    }
    // One idle pool per build: an older one (a concurrent execution's) stops.
    void this.takeWarm(key)?.close();
    const timer = setTimeout(() => {
      if (this.warm.get(key)?.pool === pool) this.warm.delete(key);
      void pool.close();
    }, idleMs);
    timer.unref();
    this.warm.set(key, { pool, timer });
  }

  /** Runs one chunk until it succeeds or has no retry left; false then. */
  private async runChunk(
    spec: BatchExecutionSpec,
    chunk: BatchChunkSpec,
    pool: LocalBatchWorkers,
    { onEvent, signal }: BatchRunOptions,
  ): Promise<boolean> {
    let attempt = chunk.attempts;
    for (;;) {
      if (signal.aborted) return true;
      attempt++;
      await onEvent({ type: 'started', seq: chunk.seq, attempt });
      let outcome: BatchChunkOutcome;
      try {
        outcome = await pool.run({
          seq: chunk.seq,
          inputPath: localPath(chunk.input.uri, 'chunks'),
          outputPath: localPath(chunk.output.uri, 'results'),
          format: chunk.input.format,
          idColumn: chunk.input.idColumn,
          columns: chunk.output.columns,
          inputRange: chunk.input.range,
        });
      } catch (error) {
        outcome = {
          ok: false,
          kind: 'io_error',
          error: (error as Error).message,
        };
      }
      if (signal.aborted) return true;
      if (outcome.ok) {
        await onEvent({
          type: 'succeeded',
          seq: chunk.seq,
          attempt,
          rows: outcome.rows,
          seconds: outcome.seconds,
        });
        return true;
      }
      const willRetry =
        outcome.kind !== 'bad_input' && attempt <= spec.maxRetries;
      await onEvent({
        type: 'failed',
        seq: chunk.seq,
        attempt,
        kind: outcome.kind,
        error: outcome.error,
        willRetry,
      });
      if (!willRetry) return false;
      await sleep(spec.retryBackoffMs * 2 ** (attempt - 1), undefined, {
        signal,
      }).catch(() => {});
    }
  }
}
