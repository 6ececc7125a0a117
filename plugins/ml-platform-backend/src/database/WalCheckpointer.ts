import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs in the worker: its own connection to the file, a passive checkpoint
 * every `intervalMs`. A passive checkpoint never waits for the backend's
 * readers or writer, and they never wait for it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// Any failure ends the worker, and checkpoints go back to the backend.
const failed = error => {
  parentPort.postMessage({ failed: String(error) });
  process.exit(1);
};
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.filename, { fileMustExist: true, timeout: 1000 });
  db.pragma('synchronous = NORMAL');
} catch (error) {
  failed(error);
}
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    failed(error);
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** better-sqlite3 as knex loads it, for the worker to load the same. */
function driverPath(): string {
  return createRequire(require.resolve('knex')).resolve('better-sqlite3');
}

/**
 * Checkpoints a SQLite file's write-ahead log from a worker thread, so the
 * event loop does not. A checkpoint copies the log's pages into the
 * database file and syncs both to disk; done by the connection that
 * commits (SQLite's default, every 1000 pages), each sync blocked the
 * backend for milliseconds on this kind of disk, about half of what a
 * small commit cost (bench/README.md). The backend's own connections keep
 * a far larger automatic checkpoint (`BACKSTOP_PAGES`) only as a backstop:
 * under constant writes a passive checkpoint never catches up with the
 * log's end, so the log is reset only when that one runs.
 */
export class WalCheckpointer {
  /** Log pages (4 KiB) after which a committing connection checkpoints. */
  static readonly BACKSTOP_PAGES = 10_000;
  /** SQLite's default, for connections when the worker is gone. */
  static readonly DEFAULT_PAGES = 1000;

  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopped = false;
  private failed = false;

  /**
   * `onFailure`: the worker could not open the file or stopped; the caller
   * puts checkpoints back on its connections.
   */
  constructor(options: {
    filename: string;
    intervalMs: number;
    onFailure(reason: string): void;
  }) {
    const fail = (reason: string) => {
      if (this.stopped || this.failed) return;
      this.failed = true;
      options.onFailure(reason);
    };
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: driverPath(),
        filename: options.filename,
        intervalMs: options.intervalMs,
      },
    });
    this.exited = new Promise(resolve =>
      this.worker.once('exit', () => resolve()),
    );
    // It never keeps the backend running.
    this.worker.unref();
    this.worker.on('message', (message: { failed?: string }) => {
      if (message.failed) fail(message.failed);
    });
    this.worker.on('error', error =>
      fail(error instanceof Error ? error.message : JSON.stringify(error)),
    );
    this.worker.on('exit', code => fail(`the worker exited with ${code}`));
  }

  /** True while the worker checkpoints. */
  get running(): boolean {
    return !this.stopped && !this.failed;
  }

  /** Closes the worker's connection and ends it. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.failed) this.worker.postMessage('stop');
    await this.exited;
  }
}
