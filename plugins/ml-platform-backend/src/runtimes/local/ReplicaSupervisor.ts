import {
  ModelServerOptions,
  ModelServerProcess,
  startModelServer,
} from '@internal/ml-platform-model-runtime';
import { ReplicaState, ReplicaStatus } from '@internal/plugin-ml-platform-node';
import { ChildProcess } from 'node:child_process';
import type { ProcessLauncher } from '@internal/ml-platform-model-runtime';

export interface SupervisorSettings {
  restartBackoff: { initialMs: number; maxMs: number };
  /** Failures within `crashLoopWindowMs` that make a crash loop. */
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
  /** A replica ready this long before it died starts over with a clean record. */
  stableAfterMs: number;
  readyTimeoutMs: number;
  stopGraceMs: number;
  /** How replicas whose HOME is `home` are started (the sandbox). */
  launcher?: (home: string) => ProcessLauncher;
}

export interface ReplicaSupervisorOptions {
  id: string;
  buildId: string;
  /** Replicas with the same revision are interchangeable. */
  revision: string;
  server: Omit<
    ModelServerOptions,
    'onLog' | 'onSpawn' | 'readyTimeoutMs' | 'exitWithParent' | 'launcher'
  >;
  settings: SupervisorSettings;
  log: (stream: 'stderr' | 'runtime', line: string) => void;
  /** Any change of state, url, pid or counters. Called synchronously. */
  onChange: () => void;
}

interface Run {
  child?: ChildProcess;
  server?: ModelServerProcess;
  startedAt: number;
  readyAt?: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** Why startModelServer gave up (timeout, spawn error), if it did. */
  startError?: string;
  lastErrorLine?: string;
  ended: boolean;
}

// The server's informational stderr lines; anything else may explain a death.
const ACCESS_LINE = /^[A-Z]+ \S+ \d{3} \d+(\.\d+)?ms$/;
const INFO_LINE =
  /^(serving model |shutting down: |stopped( |$)|connection error from )/;

/** Waits this long for stderr to drain after an exit before judging it. */
const STDERR_DRAIN_MS = 1000;

function describeExit(run: Run): string {
  if (run.startError && !run.exit) return run.startError;
  if (run.startError?.includes('was not ready after')) {
    return run.startError.replace(/^\S+ /, '');
  }
  if (run.exit?.signal) return `was killed by ${run.exit.signal}`;
  return `exited with code ${run.exit?.code ?? 'unknown'}`;
}

export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${Number((ms / 1000).toFixed(1))}s`;
}

/**
 * One replica: a model server process, restarted with exponential backoff
 * whenever it dies unless it is being stopped. Too many failures within the
 * window put it in `failed` (a crash loop), where it keeps retrying at the
 * maximum backoff.
 */
export class ReplicaSupervisor {
  readonly id: string;
  readonly buildId: string;
  readonly revision: string;
  state: ReplicaState = 'starting';
  url?: string;
  pid?: number;
  restarts = 0;
  lastError?: string;
  startedAt = new Date().toISOString();
  /** Whether this replica has ever served. */
  everReady = false;

  private run?: Run;
  private timer?: NodeJS.Timeout;
  private failures: number[] = [];
  private stopping?: Promise<void>;
  private stopped?: () => void;

  constructor(private readonly options: ReplicaSupervisorOptions) {
    this.id = options.id;
    this.buildId = options.buildId;
    this.revision = options.revision;
  }

  get retiring(): boolean {
    return this.stopping !== undefined;
  }

  /** Failures counted towards the crash loop (within the window). */
  get recentFailures(): number {
    return this.failures.length;
  }

  start(): void {
    if (this.run || this.retiring) return;
    this.launch();
  }

  status(): ReplicaStatus {
    return {
      id: this.id,
      buildId: this.buildId,
      state: this.state,
      ...(this.url ? { url: this.url } : {}),
      ...(this.pid !== undefined ? { pid: this.pid } : {}),
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      startedAt: this.startedAt,
    };
  }

  /**
   * Leaves the ready set at once, then stops the process: SIGTERM for a
   * serving replica (in-flight requests finish), SIGKILL after `graceMs`; a
   * replica still loading its model has nothing to drain and is killed.
   */
  stop(graceMs = this.options.settings.stopGraceMs): Promise<void> {
    if (this.stopping) return this.stopping;
    const wasReady = this.state === 'ready';
    this.stopping = new Promise(resolve => {
      this.stopped = resolve;
    });
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'stopping';
    this.url = undefined;
    this.options.onChange();
    const run = this.run;
    const child = run?.child;
    if (
      !run ||
      !child ||
      child.exitCode !== null ||
      child.signalCode !== null
    ) {
      if (run && !child) this.finish(run);
      else if (!run) this.stopped!();
      return this.stopping;
    }
    if (wasReady) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      this.stopping.finally(() => clearTimeout(killTimer));
    } else {
      child.kill('SIGKILL');
    }
    return this.stopping;
  }

  private launch() {
    const run: Run = { startedAt: Date.now(), ended: false };
    this.run = run;
    this.startedAt = new Date(run.startedAt).toISOString();
    const { settings } = this.options;
    startModelServer({
      ...this.options.server,
      launcher: settings.launcher?.(this.options.server.modelDir),
      readyTimeoutMs: settings.readyTimeoutMs,
      exitWithParent: true,
      onSpawn: child => {
        run.child = child;
        this.pid = child.pid;
        child.once('exit', (code, signal) => this.onExit(run, code, signal));
        child.once('close', () => this.finish(run));
      },
      onLog: line => {
        if (line && !ACCESS_LINE.test(line) && !INFO_LINE.test(line)) {
          run.lastErrorLine = line;
        }
        this.options.log('stderr', line);
      },
    }).then(
      server => {
        run.server = server;
        if (run !== this.run || this.retiring || run.exit) return;
        run.readyAt = Date.now();
        this.state = 'ready';
        this.url = server.url;
        this.everReady = true;
        this.options.log(
          'runtime',
          `replica ${this.id} started pid ${server.pid} on port ${server.port}`,
        );
        this.options.onChange();
      },
      (error: Error) => {
        run.startError = error.message;
        // A spawn error (no pid) ends with 'close' but never 'exit'.
        if (!run.child) this.finish(run);
      },
    );
    this.options.onChange();
  }

  private onExit(run: Run, code: number | null, signal: NodeJS.Signals | null) {
    run.exit = { code, signal };
    if (run !== this.run) return;
    // Not ready from the moment the process is gone, before stderr drained.
    if (this.state === 'ready') {
      this.state = 'restarting';
      this.url = undefined;
      this.lastError = describeExit(run); // refined once stderr drained
      this.options.onChange();
    }
    // A grandchild holding stderr open would delay 'close' forever.
    setTimeout(() => this.finish(run), STDERR_DRAIN_MS).unref();
  }

  private finish(run: Run) {
    if (run.ended) return;
    run.ended = true;
    // Lets the startModelServer rejection (a microtask) record its reason first.
    setImmediate(() => this.onEnded(run));
  }

  private onEnded(run: Run) {
    if (run !== this.run) return;
    this.run = undefined;
    this.pid = undefined;
    this.url = undefined;
    if (this.stopping) {
      const how = run.exit?.signal
        ? `killed by ${run.exit.signal}`
        : `exit code ${run.exit?.code}`;
      this.options.log('runtime', `replica ${this.id} stopped (${how})`);
      this.options.onChange();
      this.stopped!();
      return;
    }

    const { settings } = this.options;
    const now = Date.now();
    if (
      run.readyAt !== undefined &&
      now - run.readyAt >= settings.stableAfterMs
    ) {
      this.failures = [];
    }
    this.failures = this.failures.filter(
      at => now - at < settings.crashLoopWindowMs,
    );
    this.failures.push(now);
    const detail = describeExit(run);
    this.lastError = run.lastErrorLine
      ? `${detail}: ${run.lastErrorLine}`
      : detail;
    this.options.log('runtime', `replica ${this.id} ${detail}`);

    const crashLoop = this.failures.length >= settings.crashLoopRestarts;
    const { initialMs, maxMs } = settings.restartBackoff;
    const delay = crashLoop
      ? maxMs
      : Math.min(maxMs, initialMs * 2 ** (this.failures.length - 1));
    if (crashLoop) {
      this.options.log(
        'runtime',
        `replica ${this.id} is crash-looping (${this.failures.length} failures): ${this.lastError}`,
      );
    }
    this.state = crashLoop ? 'failed' : 'restarting';
    this.options.log(
      'runtime',
      `restarting ${this.id} in ${formatDelay(delay)}`,
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.retiring) return;
      this.restarts += 1;
      this.launch();
    }, delay);
    this.options.onChange();
  }
}
