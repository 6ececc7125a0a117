import { LoggerService, UrlReaderService } from '@backstage/backend-plugin-api';
import {
  ArtifactStore,
  BatchChunkEvent,
  BatchChunkSpec,
  BatchFailureKind,
  ModelBuildArtifact,
  Runtime,
} from '@internal/plugin-ml-platform-node';
import { parseEntityRef } from '@backstage/catalog-model';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExecutionRecord, PlatformStores } from '../database';
import { BuildPackages } from '../deployments/BuildPackages';
import { BatchConnections } from './BatchConnections';
import {
  ChunkResult,
  InputRefusedError,
  ResultSink,
  RowSource,
  SinkRegistry,
  SourceRegistry,
  checkColumns,
  defaultSinks,
  defaultSources,
  planChunks,
} from './io';
import { ExecutionInputs } from './ExecutionInputs';
import { Uploads } from './Uploads';
import { errorMeta } from '../util/logging';

export interface BatchRunnerOptions {
  stores: Pick<PlatformStores, 'builds' | 'executions'>;
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
  /** Row sources by input type; the platform's own by default. */
  sources?: SourceRegistry;
  /** Result sinks by output type; the platform's own by default. */
  sinks?: SinkRegistry;
}

/** How one attempt of a chunk ended (for monitoring). */
export interface ChunkAttempt {
  executionId: string;
  /** The chunk's sequence number in its execution. */
  seq: number;
  /** The attempt's number, from 1. */
  attempt: number;
  modelRef: string;
  deploymentId?: string;
  buildId: string;
  outcome: 'success' | BatchFailureKind;
  rows: number;
  seconds: number;
  /** Why the attempt failed. */
  error?: string;
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
 * hands the planned chunks to the runtime's {@link BatchRuntime} (which runs
 * them `parallelism` at a time while planning goes on, and retries failed
 * ones), writes each chunk's predictions to the sink as it succeeds, and
 * records every attempt of every chunk in the database. An
 * execution whose backend died resumes on another start from its succeeded
 * chunks; keyed writes make every input row appear exactly once.
 */
export class BatchRunner {
  readonly workerId = randomUUID();
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = true;

  private readonly sources: SourceRegistry;
  private readonly sinks: SinkRegistry;
  private readonly attemptListeners: ((attempt: ChunkAttempt) => void)[] = [];
  private readonly logListeners: ((
    executionId: string,
    line: string,
  ) => void)[] = [];

  constructor(private readonly options: BatchRunnerOptions) {
    this.sources = options.sources ?? defaultSources();
    this.sinks = options.sinks ?? defaultSinks();
  }

  /** Tells `listener` how every chunk attempt ended (monitoring). */
  onChunkAttempt(listener: (attempt: ChunkAttempt) => void) {
    this.attemptListeners.push(listener);
  }

  /** Tells `listener` each line an execution's workers write (logs). */
  onWorkerLog(listener: (executionId: string, line: string) => void) {
    this.logListeners.push(listener);
  }

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
        this.options.logger.error('execution crashed', {
          executionId: execution.id,
          model: execution.modelRef,
          ...errorMeta(error),
        }),
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
        await this.options.stores.executions.heartbeatExecutions(ids);
        for (const id of await this.options.stores.executions.listCancelRequestedExecutions(
          ids,
        )) {
          this.abortLocal(id);
        }
        await this.resumeStale();
      } catch (error) {
        this.options.logger.warn('batch runner tick failed', errorMeta(error));
      } finally {
        this.tick();
      }
    }, this.options.heartbeatMs);
  }

  private async resumeStale() {
    const before = new Date(Date.now() - this.options.staleAfterMs);
    for (const execution of await this.options.stores.executions.listStaleExecutions(
      before,
    )) {
      if (this.running.has(execution.id)) continue;
      if (
        await this.options.stores.executions.claimExecution(
          execution.id,
          this.workerId,
          before,
        )
      ) {
        this.options.logger.info(
          'resuming execution from its succeeded chunks',
          { executionId: execution.id, model: execution.modelRef },
        );
        this.launch(execution);
      }
    }
  }

  private async execute(execution: ExecutionRecord, signal: AbortSignal) {
    const { stores, logger } = this.options;
    const dir = path.join(this.options.workDir, execution.id);
    let source: RowSource | undefined;
    let sink: ResultSink | undefined;
    try {
      await stores.executions.updateExecution(execution.id, {
        status: 'running',
        startedAt: execution.startedAt ?? new Date().toISOString(),
      });
      // Chunks that were running when a backend died run again.
      for (const chunk of await stores.executions.listChunks(execution.id, {
        status: ['running'],
      })) {
        await stores.executions.updateChunk(execution.id, chunk.seq, {
          status: 'pending',
        });
      }
      const build = await stores.builds.getBuild(execution.buildId);
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
      const output = this.sinks.open(execution.output, {
        connections: this.options.connections,
        dir,
      });
      sink = output;
      const artifact = await this.options.packages.artifactOf(build);
      await this.runChunks(execution, source, output, artifact, dir, signal);
      throwIfAborted(signal);
      const results = (
        await stores.executions.listChunks(execution.id)
      ).map<ChunkResult>(c => ({
        seq: c.seq,
        path: resultPath(dir, c.seq),
      }));
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
      await stores.executions.updateExecution(execution.id, {
        status: 'succeeded',
        resultUri,
        finishedAt: new Date().toISOString(),
      });
      logger.info('execution succeeded', {
        executionId: execution.id,
        model: execution.modelRef,
        rows: summary.rows,
      });
      // Chunk files are only needed to resume; the result is stored.
      await fs.promises.rm(dir, { recursive: true, force: true });
    } catch (error) {
      const stop = signal.aborted ? (signal.reason as Stop) : error;
      if (stop instanceof Stop && stop.status === 'interrupted') return;
      if (stop instanceof Stop && stop.status === 'cancelled') {
        await this.options.runtime.batch.cancel(execution.id).catch(e =>
          logger.warn('could not stop execution', {
            executionId: execution.id,
            ...errorMeta(e),
          }),
        );
      }
      const done = await stores.executions.getExecution(execution.id);
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
        logger.warn('execution failed', {
          executionId: execution.id,
          model: execution.modelRef,
          ...errorMeta(stop),
        });
      await stores.executions.updateExecution(execution.id, {
        status,
        error: message,
        finishedAt: new Date().toISOString(),
      });
    } finally {
      await sink?.close?.();
      await source?.close().catch(() => {});
    }
  }

  private async runChunks(
    execution: ExecutionRecord,
    source: RowSource,
    sink: ResultSink,
    build: ModelBuildArtifact,
    dir: string,
    signal: AbortSignal,
  ) {
    const { stores } = this.options;
    const stored = new Map(
      (await stores.executions.listChunks(execution.id)).map(c => [c.seq, c]),
    );
    const planner = planChunks({
      source,
      chunkSize: execution.chunkSize,
      dir: path.join(dir, 'chunks'),
    });
    const rowsOf = new Map<number, { start: number; end: number }>();
    // Chunks as the planner writes them; those a previous run finished are
    // already in the sink.
    async function* plan(): AsyncGenerator<BatchChunkSpec> {
      let step = await planner.next();
      while (!step.done) {
        throwIfAborted(signal);
        const chunk = step.value;
        rowsOf.set(chunk.seq, { start: chunk.rowStart, end: chunk.rowEnd });
        const record = stored.get(chunk.seq);
        if (!record) {
          await stores.executions.addChunks([
            {
              executionId: execution.id,
              seq: chunk.seq,
              rowStart: chunk.rowStart,
              rowEnd: chunk.rowEnd,
            },
          ]);
        }
        const output = resultPath(dir, chunk.seq);
        if (record?.status === 'succeeded') {
          sink.alreadyWritten?.(output, chunk.seq);
        } else {
          await fs.promises.mkdir(path.dirname(output), { recursive: true });
          yield {
            seq: chunk.seq,
            rows: chunk.rowEnd - chunk.rowStart,
            input: {
              uri: pathToFileURL(chunk.path).href,
              format: chunk.format,
              range: chunk.range && {
                ...chunk.range,
                firstRowId: chunk.rowStart,
              },
            },
            output: {
              uri: pathToFileURL(output).href,
              columns: sink.workersWriteFinalLines === true,
            },
            attempts: record?.attempts ?? 0,
          };
        }
        step = await planner.next();
      }
      await stores.executions.updateExecution(execution.id, {
        chunksTotal: step.value.chunks,
        rowsTotal: step.value.rows,
      });
    }

    let failure: Stop | undefined;
    // When each chunk's current attempt started, for failed attempts' time.
    const attemptStarts = new Map<number, number>();
    const onEvent = async (event: BatchChunkEvent) => {
      throwIfAborted(signal);
      if (event.type === 'started') {
        attemptStarts.set(event.seq, performance.now());
        await stores.executions.updateChunk(execution.id, event.seq, {
          status: 'running',
          attempts: event.attempt,
          startedAt: new Date().toISOString(),
        });
        return;
      }
      const chunk = rowsOf.get(event.seq)!;
      const planned = chunk.end - chunk.start;
      let outcome = event;
      // Exactly once: a worker that read other records than planned (the
      // input changed, or parses a record differently) must not pass.
      if (outcome.type === 'succeeded' && outcome.rows !== planned) {
        outcome = {
          type: 'failed',
          seq: event.seq,
          attempt: event.attempt,
          kind: 'bad_input',
          error: `the worker read ${outcome.rows} rows where ${planned} were planned`,
          willRetry: false,
        };
      }
      const started = attemptStarts.get(event.seq);
      attemptStarts.delete(event.seq);
      let seconds = 0;
      if (event.type === 'succeeded') seconds = event.seconds;
      else if (started !== undefined) {
        seconds = (performance.now() - started) / 1000;
      }
      this.reportAttempt({
        executionId: execution.id,
        seq: event.seq,
        attempt: event.attempt,
        modelRef: execution.modelRef,
        deploymentId: execution.deploymentId,
        buildId: execution.buildId,
        outcome: outcome.type === 'succeeded' ? 'success' : outcome.kind,
        rows: outcome.type === 'succeeded' ? outcome.rows : planned,
        seconds,
        error: outcome.type === 'succeeded' ? undefined : outcome.error,
      });
      if (outcome.type === 'succeeded') {
        await sink.writeChunk(resultPath(dir, event.seq), event.seq, planned);
        await stores.executions.updateChunk(execution.id, event.seq, {
          status: 'succeeded',
          finishedAt: new Date().toISOString(),
        });
        return;
      }
      await stores.executions.updateChunk(execution.id, event.seq, {
        status: outcome.willRetry ? 'pending' : 'failed',
        error: `${outcome.kind}: ${outcome.error}`,
        finishedAt: new Date().toISOString(),
      });
      if (!outcome.willRetry) {
        failure ??= new Stop(
          'failed',
          `Chunk ${event.seq} (rows ${chunk.start}-${
            chunk.end - 1
          }) failed after ${outcome.attempt} attempt${
            outcome.attempt > 1 ? 's' : ''
          }: ${outcome.error}`,
        );
        // A worker's miscount is found here: the runtime must stop too.
        if (event.type === 'succeeded') throw failure;
      }
    };

    const { ok } = await this.options.runtime.batch.run(
      {
        executionId: execution.id,
        modelName: parseEntityRef(execution.modelRef).name,
        build,
        parallelism: execution.parallelism,
        maxRetries: execution.maxRetries,
        retryBackoffMs: this.options.retryBackoffMs,
      },
      plan(),
      {
        onEvent,
        signal,
        onLog: line => {
          this.options.logger.debug(`[execution ${execution.id}] ${line}`);
          for (const listener of this.logListeners) {
            listener(execution.id, line);
          }
        },
      },
    );
    throwIfAborted(signal);
    if (failure) throw failure;
    if (!ok) throw new Stop('failed', 'A chunk failed');
  }

  private reportAttempt(attempt: ChunkAttempt) {
    for (const listener of this.attemptListeners) {
      try {
        listener(attempt);
      } catch (error) {
        this.options.logger.warn('chunk attempt listener failed', {
          ...errorMeta(error),
        });
      }
    }
  }

  private async openSource(execution: ExecutionRecord): Promise<RowSource> {
    const { uploads, inputs, connections, urlReader, workDir } = this.options;
    try {
      return await this.sources.open(execution.input, {
        modelRef: execution.modelRef,
        uploads,
        inputs,
        connections,
        urlReader,
        tmpDir: workDir,
        workersCanRead: async file =>
          (await this.options.workersCanRead?.(file)) ?? true,
      });
    } catch (error) {
      if (error instanceof InputRefusedError) {
        throw new Stop('failed', error.message);
      }
      throw error;
    }
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
