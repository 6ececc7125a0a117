import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempPathFor } from './atomicFile';
import { ChunkResult, ResultSink } from './types';

/**
 * A JSON lines file output assembled while the execution runs: the workers
 * write each chunk's lines in their final form (`--columns`), and chunk files
 * are appended in sequence order as soon as every earlier chunk is there. The
 * result is a concatenation: no row is parsed again here.
 */
export class JsonlConcatSink implements ResultSink {
  readonly description: string;
  private readonly ready = new Map<number, string>();
  private next = 0;
  private rows = 0;
  private handle?: fs.FileHandle;
  private readonly tempPath: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly dest: string) {
    this.description = `jsonl file ${dest}`;
    this.tempPath = tempPathFor(dest);
  }

  async writeChunk(resultPath: string, seq: number): Promise<{ rows: number }> {
    const before = this.rows;
    this.ready.set(seq, resultPath);
    this.chain = this.chain.then(() => this.drain());
    await this.chain;
    return { rows: this.rows - before };
  }

  /** A chunk that succeeded before a restart: appended in its turn. */
  alreadyWritten(resultPath: string, seq: number) {
    this.ready.set(seq, resultPath);
  }

  async finish(results: ChunkResult[]): Promise<{ rows: number }> {
    for (const r of results) {
      if (r.seq >= this.next) this.ready.set(r.seq, r.path);
    }
    this.chain = this.chain.then(() => this.drain());
    await this.chain;
    if (this.next !== results.length) {
      throw new Error(
        `chunk ${this.next} has no result file; cannot assemble ${this.dest}`,
      );
    }
    const handle = await this.open();
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    await fs.rename(this.tempPath, this.dest);
    return { rows: this.rows };
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
    }
    return this.handle;
  }

  private async drain() {
    while (this.ready.has(this.next)) {
      const path = this.ready.get(this.next)!;
      const handle = await this.open();
      for await (const chunk of createReadStream(path)) {
        const buffer = chunk as Buffer;
        let lines = 0;
        for (
          let i = buffer.indexOf(10);
          i !== -1;
          i = buffer.indexOf(10, i + 1)
        )
          lines++;
        this.rows += lines;
        await handle.write(buffer);
      }
      this.ready.delete(this.next);
      this.next += 1;
    }
  }
}
