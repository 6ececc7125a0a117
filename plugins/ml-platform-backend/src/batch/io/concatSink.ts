import { createHash, Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import { openWorkerFile } from './results';
import { dirname } from 'node:path';
import { tempPathFor } from './atomicFile';
import { ChunkResult, ResultSink } from './types';

/** Copy buffer: few reads and writes per chunk file. */
const COPY_BYTES = 1024 * 1024;

/**
 * A JSON lines file output assembled while the execution runs: the workers
 * write each chunk's lines in their final form (`--columns`), and chunk files
 * are appended in sequence order as soon as every earlier chunk is there. The
 * result is a concatenation: no row is parsed again here, and its sha256 is
 * computed on the way, so storing it needs no second read.
 */
export class JsonlConcatSink implements ResultSink {
  readonly description: string;
  readonly workersWriteFinalLines = true;
  /** Result files waiting for their turn, and their row counts when known. */
  private readonly ready = new Map<
    number,
    { path: string; rows: number | undefined }
  >();
  private next = 0;
  private rows = 0;
  private handle?: fs.FileHandle;
  private hash?: Hash;
  private buffer?: Buffer;
  private readonly tempPath: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly dest: string) {
    this.description = `jsonl file ${dest}`;
    this.tempPath = tempPathFor(dest);
  }

  async writeChunk(
    resultPath: string,
    seq: number,
    rows?: number,
  ): Promise<{ rows: number }> {
    const before = this.rows;
    this.ready.set(seq, { path: resultPath, rows });
    this.chain = this.chain.then(() => this.drain());
    await this.chain;
    return { rows: this.rows - before };
  }

  /** A chunk that succeeded before a restart: appended in its turn. */
  alreadyWritten(resultPath: string, seq: number) {
    this.ready.set(seq, { path: resultPath, rows: undefined });
  }

  async finish(
    results: ChunkResult[],
  ): Promise<{ rows: number; digest: string }> {
    for (const r of results) {
      if (r.seq >= this.next && !this.ready.has(r.seq)) {
        this.ready.set(r.seq, { path: r.path, rows: undefined });
      }
    }
    this.chain = this.chain.then(() => this.drain());
    await this.chain;
    if (this.next !== results.length) {
      throw new Error(
        `chunk ${this.next} has no result file; cannot assemble ${this.dest}`,
      );
    }
    const handle = await this.open();
    const digest = `sha256:${this.hash!.digest('hex')}`;
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    await fs.rename(this.tempPath, this.dest);
    return { rows: this.rows, digest };
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    await this.handle?.close();
    this.handle = undefined;
  }

  private async open(): Promise<fs.FileHandle> {
    if (!this.handle) {
      await fs.mkdir(dirname(this.dest), { recursive: true });
      // A file from a run that stopped is started over: chunks are re-appended.
      this.handle = await fs.open(this.tempPath, 'w');
      this.hash = createHash('sha256');
    }
    return this.handle;
  }

  private async drain() {
    while (this.ready.has(this.next)) {
      const { path, rows } = this.ready.get(this.next)!;
      const lines = await this.append(path, rows === undefined);
      this.rows += rows ?? lines;
      this.ready.delete(this.next);
      this.next += 1;
    }
  }

  /** Appends a result file; counts its lines only when asked (resumed chunks). */
  private async append(path: string, countLines: boolean): Promise<number> {
    const out = await this.open();
    const buffer = (this.buffer ??= Buffer.allocUnsafe(COPY_BYTES));
    const input = await openWorkerFile(path);
    let lines = 0;
    try {
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length);
        if (bytesRead === 0) break;
        const bytes = buffer.subarray(0, bytesRead);
        if (countLines) {
          for (
            let i = bytes.indexOf(10);
            i !== -1;
            i = bytes.indexOf(10, i + 1)
          )
            lines++;
        }
        this.hash!.update(bytes);
        let written = 0;
        while (written < bytesRead) {
          written += (await out.write(bytes, written, bytesRead - written))
            .bytesWritten;
        }
      }
    } finally {
      await input.close();
    }
    return lines;
  }
}
