import {
  BatchChunkOutcome,
  BatchChunkTask,
  BatchWorkerPool,
  BatchWorkersSpec,
} from '@internal/plugin-ml-platform-node';
import { spawnRuntimeProcess } from '@internal/ml-platform-model-runtime';
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { LocalSandbox } from './LocalRuntime';

export interface LocalBatchWorkersOptions {
  onLog?: (line: string) => void;
  readyTimeoutMs: number;
  sandbox?: LocalSandbox;
}

interface Worker {
  child: ChildProcess;
  /** The chunk it runs, answered by its next stdout line. */
  current?: (outcome: BatchChunkOutcome) => void;
  lastLog?: string;
  exited: boolean;
}

/**
 * The batch workers of one execution on this host: `parallelism` Python
 * processes in serve mode, each loading the model once and then running one
 * chunk at a time. A worker that dies fails its chunk (to be retried) and is
 * replaced on the next chunk.
 */
export class LocalBatchWorkers implements BatchWorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();
  private closed = false;
  /** Result directories already given to the workers. */
  private readonly ownedDirs = new Map<string, Promise<void>>();

  private constructor(
    private spec: BatchWorkersSpec,
    private options: LocalBatchWorkersOptions,
  ) {}

  /** Whether another execution of the same build may take these workers. */
  get reusable(): boolean {
    return (
      !this.closed && this.all.size > 0 && this.idle.length === this.all.size
    );
  }

  /**
   * Hands the (idle) workers to another execution of the same build: its
   * log, and its parallelism (extra workers stop; missing ones start on
   * demand, as a dead one is replaced).
   */
  reuse(spec: BatchWorkersSpec, onLog?: (line: string) => void) {
    this.spec = spec;
    this.options = { ...this.options, onLog };
    this.ownedDirs.clear();
    while (this.idle.length > Math.max(1, spec.workers)) {
      const extra = this.idle.pop()!;
      this.all.delete(extra);
      extra.child.stdin!.end(); // serve mode ends at stdin EOF
      setTimeout(() => extra.child.kill('SIGKILL'), 5_000).unref();
    }
  }

  static async start(
    spec: BatchWorkersSpec,
    options: LocalBatchWorkersOptions,
  ): Promise<LocalBatchWorkers> {
    const pool = new LocalBatchWorkers(spec, options);
    try {
      const workers = await Promise.all(
        Array.from({ length: Math.max(1, spec.workers) }, () => pool.spawn()),
      );
      pool.idle.push(...workers);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  async run(task: BatchChunkTask): Promise<BatchChunkOutcome> {
    if (this.closed) {
      return {
        ok: false,
        kind: 'worker_crashed',
        error: 'the execution was stopped',
      };
    }
    let worker: Worker;
    try {
      await this.writableOutput(task.outputPath);
      worker = await this.acquire();
    } catch (error) {
      return {
        ok: false,
        kind: 'worker_crashed',
        error: (error as Error).message,
      };
    }
    const outcome = await new Promise<BatchChunkOutcome>(resolve => {
      worker.current = resolve;
      worker.child.stdin!.write(
        `${JSON.stringify({
          chunk: task.seq,
          input: task.inputPath,
          output: task.outputPath,
          format: task.format,
          id_column: task.idColumn ?? '__row_id',
          columns: task.columns ?? false,
          range: task.inputRange && {
            offset: task.inputRange.offset,
            length: task.inputRange.length,
            header: task.inputRange.header,
            first_row_id: task.inputRange.firstRowId,
            first_line: task.inputRange.firstLine,
          },
        })}\n`,
      );
    });
    this.release(worker);
    return outcome;
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.all].map(
      worker =>
        new Promise<void>(resolve => {
          if (worker.exited) {
            resolve();
            return;
          }
          worker.child.once('exit', () => resolve());
          // Closing stdin ends serve mode; a busy worker is killed.
          if (worker.current) worker.child.kill('SIGKILL');
          else worker.child.stdin!.end();
          setTimeout(() => worker.child.kill('SIGKILL'), 5_000).unref();
        }),
    );
    for (const waiter of this.waiting.splice(0)) {
      waiter(undefined as never);
    }
    await Promise.all(exits);
  }

  /** Workers may run as another user: they must be able to write results. */
  private writableOutput(outputPath: string): Promise<void> {
    const { sandbox } = this.options;
    if (!sandbox) return Promise.resolve();
    const dir = path.dirname(outputPath);
    let owned = this.ownedDirs.get(dir);
    if (!owned) {
      owned = fs.promises
        .mkdir(dir, { recursive: true })
        .then(() => sandbox.own(dir));
      owned.catch(() => this.ownedDirs.delete(dir));
      this.ownedDirs.set(dir, owned);
    }
    return owned;
  }

  private async spawn(): Promise<Worker> {
    const { package: pkg } = this.spec;
    const args = [
      '--serve',
      '--model-dir',
      pkg.modelDir,
      '--entrypoint',
      pkg.entrypoint,
    ];
    if (pkg.schemaFile) args.push('--schema', pkg.schemaFile);
    const worker: Worker = { child: undefined as never, exited: false };
    const { child, stdout } = await spawnRuntimeProcess(
      'mlp_runtime.batch',
      args,
      {
        modelDir: pkg.modelDir,
        entrypoint: pkg.entrypoint,
        python: pkg.python,
        launcher: this.options.sandbox?.launcher('batch', pkg.modelDir),
        exitWithParent: true,
        readyTimeoutMs: this.options.readyTimeoutMs,
        onLog: line => {
          worker.lastLog = line;
          this.options.onLog?.(line);
        },
        onSpawn: c => {
          worker.child = c;
          this.all.add(worker);
        },
      },
    );
    worker.child = child;
    attachAnswers(worker, stdout);
    child.once('exit', (code, signal) => {
      worker.exited = true;
      this.all.delete(worker);
      const idleAt = this.idle.indexOf(worker);
      if (idleAt >= 0) this.idle.splice(idleAt, 1);
      worker.current?.({
        ok: false,
        kind: 'worker_crashed',
        error: `the batch worker ${
          signal ? `was killed by ${signal}` : `exited with code ${code}`
        }${worker.lastLog ? `: ${worker.lastLog}` : ''}`,
      });
      worker.current = undefined;
    });
    return worker;
  }

  private async acquire(): Promise<Worker> {
    const worker = this.idle.shift();
    if (worker) return worker;
    if (this.all.size < this.spec.workers) {
      // A worker died: replace it.
      return this.spawn();
    }
    return new Promise<Worker>((resolve, reject) =>
      this.waiting.push(w =>
        w ? resolve(w) : reject(new Error('the execution was stopped')),
      ),
    );
  }

  private release(worker: Worker) {
    if (worker.exited || this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter(worker);
    else this.idle.push(worker);
  }
}

function attachAnswers(worker: Worker, stdout: readline.Interface) {
  stdout.on('line', line => {
    let answer: {
      ok?: boolean;
      rows?: number;
      seconds?: number;
      kind?: string;
      error?: string;
    };
    try {
      answer = JSON.parse(line);
    } catch {
      return;
    }
    const done = worker.current;
    worker.current = undefined;
    if (!done) return;
    if (answer.ok) {
      done({ ok: true, rows: answer.rows ?? 0, seconds: answer.seconds ?? 0 });
    } else {
      const kind = (['bad_input', 'model_error', 'io_error'] as const).find(
        k => k === answer.kind,
      );
      done({
        ok: false,
        kind: kind ?? 'model_error',
        error: answer.error ?? 'the worker gave no reason',
      });
    }
  });
}
