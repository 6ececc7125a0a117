import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';

/** Bytes of text kept before a write: bounds memory, keeps writes large. */
const WRITE_BUFFER_CHARS = 256 * 1024;

/** A sibling temporary name, unique per process and call. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Buffered text written to a temporary name and renamed into place on
 * commit, so the final path holds a complete file or nothing.
 */
export class AtomicTextFile {
  private parts: string[] = [];
  private buffered = 0;

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly tempPath: string,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<AtomicTextFile> {
    const tempPath = tempPathFor(path);
    return new AtomicTextFile(await fs.open(tempPath, 'w'), tempPath, path);
  }

  /**
   * Buffers `text`; returns true when the buffer is full and the caller
   * should `await flush()` (kept synchronous: it runs once per row).
   */
  write(text: string): boolean {
    this.parts.push(text);
    this.buffered += text.length;
    return this.buffered >= WRITE_BUFFER_CHARS;
  }

  async append(text: string): Promise<void> {
    if (this.write(text)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.buffered = 0;
    await this.handle.write(text);
  }

  /**
   * `durable` fsyncs before the rename, so that after a power loss the final
   * name never points at an empty or partial file.
   */
  async commit(durable: boolean): Promise<void> {
    await this.flush();
    if (durable) await this.handle.sync();
    await this.handle.close();
    await fs.rename(this.tempPath, this.path);
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await fs.rm(this.tempPath, { force: true });
  }
}
