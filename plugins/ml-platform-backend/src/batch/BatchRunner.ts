import { LoggerService, UrlReaderService } from '@backstage/backend-plugin-api';
import {
  ArtifactStore,
  BatchChunkOutcome,
  BatchWorkerPool,
  Runtime,
} from '@internal/plugin-ml-platform-node';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChunkRecord,
  ExecutionRecord,
  MlPlatformStore,
} from '../database/MlPlatformStore';
import { BuildPackages } from '../deployments/BuildPackages';
import { BatchConnections } from './BatchConnections';
import {
  ChunkDescriptor,
  ChunkResult,
  FileResultSink,
  JsonlConcatSink,
  ResultSink,
  RowSource,
  SqlTableSink,
  checkColumns,
  fileSource,
  planChunks,
  sqlSource,
  streamSource,
} from './io';
import { ExecutionInputs } from './ExecutionInputs';
import { Uploads } from './Uploads';

export interface BatchRunnerOptions {
  store: MlPlatformStore;
  runtime: Runtime;
  packages: BuildPackages;
  artifactStore: ArtifactStore;
  uploads: Uploads;
  connections: BatchConnections;
  /** Checks inputs again when they are read (symlinks, DNS may change). */
  inputs: ExecutionInputs;
  /**
   * Whether the runtime's workers can open a local file themselves (they
   * may run as another user); otherwise CSV chunks are copied for them.
   */
  workersCanRead?: (file: string) => Promise<boolean>;
  urlReader: UrlReaderService;
  logger: LoggerService;
  /** Where executions keep their chunk and result files. */
  workDir: string;
  heartbeatMs: number;
  staleAfterMs: number;
  /** First retry delay of a failed chunk; doubles per attempt. */
  retryBackoffMs: number;
  /** Told about every chunk attempt (monitoring). */
  onChunkAttempt?: (attempt: ChunkAttempt) => void;
  /** Each line the execution's workers write (searchable logs). */
  onWorkerLog?: (executionId: string, line: string) => void;
}

/** How one attempt of a chunk ended. */
export interface ChunkAttempt {
  executionId: string;
  /** The chunk's sequence number in its execution. */
  seq: number;
  modelRef: string;
  deploymentId?: string;
  buildId: string;
  outcome: 'success' | Extract<BatchChunkOutcome, { ok: false }>['kind'];
  rows: number;
  seconds: number;
  /** Why the attempt failed. */
  error?: string;
  /** The attempt's number, from 1. */
  attempt: number;
}

/** Why a running execution stops before its chunks are done. */
class Stop extends Error {
  constructor(
    readonly status: 'failed' | 'cancelled' | 'interrupted',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs batch executions: streams the input into chunk files (the planner),
 * runs them on `parallelism` workers of the runtime while planning goes on,
 * retries failed chunks with backoff, writes each chunk's predictions to the
 * sink as it succeeds, and records every chunk's state in the database. An
 * execution whose backend died resumes on another start from its succeeded
 * chunks; keyed writes make every input row appear exactly once.
 */
export class BatchRunner {
  readonly workerId = randomUUID();
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = true;

  constructor(private readonly options: BatchRunnerOptions) {}

  async start() {
    this.stopped = false;
    await this.resumeStale();
    this.tick();
  }

  /** Starts an execution this instance just created (and claimed). */
  launch(execution: ExecutionRecord) {
    if (this.stopped || this.running.has(execution.id)) return;
    const controller = new AbortController();
    this.running.set(execution.id, controller);
    const done: Promise<void> = this.execute(execution, controller.signal)
      .catch(error =>
        this.options.logger.error(
          `Execution ${execution.id} crashed: ${error}`,
        ),
      )
      .finally(() => {
        this.running.delete(execution.id);
        this.finished.delete(done);
      });
    this.finished.add(done);
  }

  /** Stops an execution running here at once (others see it on heartbeat). */
  abortLocal(id: string) {
    this.running.get(id)?.abort(new Stop('cancelled', 'Cancelled'));
  }

  /**
   * Backend shutdown: workers stop, the executions stay `running` in the
   * database, and the next start (here or elsewhere) resumes them.
   */
  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const controller of this.running.values()) {
      controller.abort(new Stop('interrupted', 'The backend stopped'));
    }
    await Promise.allSettled([...this.finished]);
  }

  private tick() {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      try {
        const ids = [...this.running.keys()];
        await this.options.store.heartbeatExecutions(ids);
        for (const id of await this.options.store.listCancelRequestedExecutions(
          ids,
        )) {
          this.abortLocal(id);
        }
        await this.resumeStale();
      } catch (error) {
        this.options.logger.warn(`Batch runner tick failed: ${error}`);
      } finally {
        this.tick();
      }
    }, this.options.heartbeatMs);
  }

  private async resumeStale() {
    const before = new Date(Date.now() - this.options.staleAfterMs);
    for (const execution of await this.options.store.listStaleExecutions(
      before,
    )) {
      if (this.running.has(execution.id)) continue;
      if (
        await this.options.store.claimExecution(
          execution.id,
          this.workerId,
          before,
        )
      ) {
        this.options.logger.info(
          `Resuming execution ${execution.id} from its succeeded chunks`,
        );
        this.launch(execution);
      }
    }
  }

  private async execute(execution: ExecutionRecord, signal: AbortSignal) {
    const { store, logger } = this.options;
    const dir = path.join(this.options.workDir, execution.id);
    let pool: BatchWorkerPool | undefined;
    let source: RowSource | undefined;
    let sink: ResultSink | undefined;
    try {
      await store.updateExecution(execution.id, {
        status: 'running',
        startedAt: execution.startedAt ?? new Date().toISOString(),
      });
      // Chunks that were running when a backend died run again.
      for (const chunk of await store.listChunks(execution.id, {
        status: ['running'],
      })) {
        await store.updateChunk(execution.id, chunk.seq, { status: 'pending' });
      }
      const build = await store.getBuild(execution.buildId);
      if (!build)
        throw new Stop('failed', `Build ${execution.buildId} no longer exists`);
      const manifest = await this.options.packages.manifestOf(build);
      source = await this.openSource(execution);
      const required = (manifest.spec.schema?.inputs ?? [])
        .filter(i => i.required !== false)
        .map(i => i.name);
      try {
        await checkColumns(source, required);
      } catch (error) {
        throw new Stop(
          'failed',
          `Input ${source.description}: ${(error as Error).message}`,
        );
      }
      const output = this.openSink(execution, dir);
      sink = output;
      const pkg = await this.options.packages.get(build);
      pool = await this.options.runtime.startBatchWorkers(
        {
          executionId: execution.id,
          package: pkg,
          workers: execution.parallelism,
        },
        {
          onLog: line => {
            logger.debug(`[execution ${execution.id}] ${line}`);
            this.options.onWorkerLog?.(execution.id, line);
          },
        },
      );
      await this.runChunks(execution, source, output, pool, dir, signal);
      throwIfAborted(signal);
      const results = (await store.listChunks(execution.id)).map<ChunkResult>(
        c => ({
          seq: c.seq,
          path: resultPath(dir, c.seq),
        }),
      );
      const summary = await output.finish(results);
      let resultUri: string | undefined;
      if (execution.output.type === 'file') {
        const file = path.join(dir, `result.${execution.output.format}`);
        // The work directory is removed next: the store may take the file.
        const stored = await this.options.artifactStore.put(
          `executions/${execution.id}/result.${execution.output.format}`,
          file,
          { move: true, digest: summary.digest },
        );
        resultUri = stored.uri;
      }
      await store.updateExecution(execution.id, {
        status: 'succeeded',
        resultUri,
        finishedAt: new Date().toISOString(),
      });
      logger.info(`Execution ${execution.id} wrote ${summary.rows} rows`);
      // Chunk files are only needed to resume; the result is stored.
      await fs.promises.rm(dir, { recursive: true, force: true });
    } catch (error) {
      const stop = signal.aborted ? (signal.reason as Stop) : error;
      if (stop instanceof Stop && stop.status === 'interrupted') return;
      const done = await store.getExecution(execution.id);
      const status: 'failed' | 'cancelled' =
        stop instanceof Stop && stop.status === 'cancelled'
          ? 'cancelled'
          : 'failed';
      let message = (stop as Error).message;
      if (status === 'cancelled' && done) {
        message = `Cancelled after ${done.chunksDone} of ${
          done.chunksTotal ?? '?'
        } chunks (${done.rowsDone} rows)`;
      }
      if (!(stop instanceof Stop))
        logger.warn(
          `Execution ${execution.id} failed: ${(stop as Error).stack}`,
        );
      await store.updateExecution(execution.id, {
        status,
        error: message,
        finishedAt: new Date().toISOString(),
      });
    } finally {
      await pool?.close();
      await sink?.close?.();
      await source?.close().catch(() => {});
    }
  }

  private async runChunks(
    execution: ExecutionRecord,
    source: RowSource,
    sink: ResultSink,
    pool: BatchWorkerPool,
    dir: string,
    signal: AbortSignal,
  ) {
    const { store } = this.options;
    const stored = new Map(
      (await store.listChunks(execution.id)).map(c => [c.seq, c]),
    );
    const inFlight = new Set<Promise<void>>();
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
    };

    const planner = planChunks({
      source,
      chunkSize: execution.chunkSize,
      dir: path.join(dir, 'chunks'),
    });
    let step = await planner.next();
    while (!step.done) {
      throwIfAborted(signal);
      if (failure) throw failure;
      const chunk = step.value;
      if (!stored.has(chunk.seq)) {
        await store.addChunks([
          {
            executionId: execution.id,
            seq: chunk.seq,
            rowStart: chunk.rowStart,
            rowEnd: chunk.rowEnd,
          },
        ]);
      }
      if (stored.get(chunk.seq)?.status === 'succeeded') {
        sink.alreadyWritten?.(resultPath(dir, chunk.seq), chunk.seq);
      } else {
        // Keep the planner a little ahead of the workers, not the whole file.
        while (inFlight.size >= execution.parallelism * 2)
          await Promise.race(inFlight);
        const task: Promise<void> = this.runChunk(
          execution,
          chunk,
          stored.get(chunk.seq),
          sink,
          pool,
          dir,
          signal,
        )
          .catch(fail)
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
      step = await planner.next();
    }
    const summary = step.value;
    await store.updateExecution(execution.id, {
      chunksTotal: summary.chunks,
      rowsTotal: summary.rows,
    });
    await Promise.all(inFlight);
    throwIfAborted(signal);
    if (failure) throw failure;
  }

  private async runChunk(
    execution: ExecutionRecord,
    chunk: ChunkDescriptor,
    record: ChunkRecord | undefined,
    sink: ResultSink,
    pool: BatchWorkerPool,
    dir: string,
    signal: AbortSignal,
  ) {
    const { store } = this.options;
    const output = resultPath(dir, chunk.seq);
    await fs.promises.mkdir(path.dirname(output), { recursive: true });
    let attempts = record?.attempts ?? 0;
    for (;;) {
      throwIfAborted(signal);
      attempts++;
      await store.updateChunk(execution.id, chunk.seq, {
        status: 'running',
        attempts,
        startedAt: new Date().toISOString(),
      });
      const rows = chunk.rowEnd - chunk.rowStart;
      const started = performance.now();
      let outcome = await pool.run({
        seq: chunk.seq,
        inputPath: chunk.path,
        outputPath: output,
        format: chunk.format,
        columns: sink instanceof JsonlConcatSink,
        inputRange: chunk.range && {
          ...chunk.range,
          firstRowId: chunk.rowStart,
        },
      });
      throwIfAborted(signal);
      // Exactly once: a worker that read other records than planned (the
      // input changed, or parses a record differently) must not pass.
      if (outcome.ok && outcome.rows !== rows) {
        outcome = {
          ok: false,
          kind: 'bad_input',
          error: `the worker read ${outcome.rows} rows where ${rows} were planned`,
        };
      }
      this.options.onChunkAttempt?.({
        executionId: execution.id,
        seq: chunk.seq,
        modelRef: execution.modelRef,
        deploymentId: execution.deploymentId,
        buildId: execution.buildId,
        outcome: outcome.ok ? 'success' : outcome.kind,
        rows: outcome.ok ? outcome.rows : rows,
        seconds: outcome.ok
          ? outcome.seconds
          : (performance.now() - started) / 1000,
        error: outcome.ok ? undefined : outcome.error,
        attempt: attempts,
      });
      if (outcome.ok) {
        await sink.writeChunk(output, chunk.seq, outcome.rows);
        await store.updateChunk(execution.id, chunk.seq, {
          status: 'succeeded',
          finishedAt: new Date().toISOString(),
        });
        return;
      }
      const retriable =
        outcome.kind !== 'bad_input' && attempts <= execution.maxRetries;
      await store.updateChunk(execution.id, chunk.seq, {
        status: retriable ? 'pending' : 'failed',
        error: `${outcome.kind}: ${outcome.error}`,
        finishedAt: new Date().toISOString(),
      });
      if (!retriable) {
        throw new Stop(
          'failed',
          `Chunk ${chunk.seq} (rows ${chunk.rowStart}-${
            chunk.rowEnd - 1
          }) failed after ${attempts} attempt${attempts > 1 ? 's' : ''}: ${
            outcome.error
          }`,
        );
      }
      await sleep(
        this.options.retryBackoffMs * 2 ** (attempts - 1),
        undefined,
        { signal },
      ).catch(() => {});
    }
  }

  private async openSource(execution: ExecutionRecord): Promise<RowSource> {
    const input = execution.input;
    switch (input.type) {
      case 'upload': {
        const upload = await this.options.uploads.resolve(
          execution.modelRef,
          input.uploadId,
          'input.uploadId',
        );
        return fileSource(upload.path, {
          format: input.format ?? upload.format,
          workersCannotRead: !(await this.workersCanRead(upload.path)),
        });
      }
      case 'path': {
        const file = await this.options.inputs
          .resolvePath(input.path, 'input.path')
          .catch(error => {
            throw new Stop('failed', (error as Error).message);
          });
        return fileSource(file, {
          format: input.format,
          workersCannotRead: !(await this.workersCanRead(file)),
        });
      }
      case 'url':
        await this.options.inputs
          .checkUrl(input.url, 'input.url')
          .catch(error => {
            throw new Stop('failed', (error as Error).message);
          });
        return streamSource({
          name: input.url,
          format: input.format,
          tmpDir: this.options.workDir,
          open: async () =>
            (await this.options.urlReader.readUrl(input.url)).stream!(),
        });
      case 'sql':
        return sqlSource({
          knex: this.options.connections.get(
            input.connection,
            'input.connection',
          ),
          query: input.query,
        });
      default:
        throw new Stop('failed', 'Unknown input type');
    }
  }

  private async workersCanRead(file: string): Promise<boolean> {
    return (await this.options.workersCanRead?.(file)) ?? true;
  }

  private openSink(execution: ExecutionRecord, dir: string): ResultSink {
    const output = execution.output;
    if (output.type === 'table') {
      return new SqlTableSink({
        knex: this.options.connections.get(
          output.connection,
          'output.connection',
        ),
        table: output.table,
      });
    }
    const dest = path.join(dir, `result.${output.format}`);
    // JSON lines are written final by the workers and concatenated as chunks end.
    if (output.format === 'jsonl') return new JsonlConcatSink(dest);
    return new FileResultSink({ dest, format: output.format });
  }
}

function resultPath(dir: string, seq: number) {
  return path.join(
    dir,
    'results',
    `chunk-${String(seq).padStart(6, '0')}.jsonl`,
  );
}

function throwIfAborted(signal: AbortSignal) {
  if (signal.aborted) throw signal.reason;
}
