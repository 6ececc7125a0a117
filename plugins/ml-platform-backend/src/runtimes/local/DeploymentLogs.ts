import { RuntimeLogLine } from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** Lines returned when neither `tail` nor `afterSeq` is given. */
export const DEFAULT_TAIL = 100;
/** Lines returned after `afterSeq` when no `tail` bounds them. */
export const DEFAULT_PAGE = 1000;
/** Upper bound of any single read. */
export const MAX_READ_LINES = 10_000;

export interface DeploymentLogsOptions {
  /** Newest lines kept in memory, so tails and followers rarely touch the file. */
  memoryLines?: number;
  /** Past this size the file is renamed to `<file>.1` (one generation kept). */
  maxFileBytes?: number;
  /** Every appended line, as it is appended. */
  onLine?: (line: RuntimeLogLine) => void;
  /** A failed write (the lines stay readable from memory). */
  onError?: (error: Error) => void;
}

/** `<logDir>/<deploymentId>.log`; the id is encoded so it cannot leave logDir. */
export function deploymentLogFile(logDir: string, deploymentId: string) {
  return path.join(logDir, `${encodeURIComponent(deploymentId)}.log`);
}

const SEQ_PREFIX = /^\{"seq":(\d+),/;

function seqOf(text: string): number | undefined {
  const match = SEQ_PREFIX.exec(text);
  return match ? Number(match[1]) : undefined;
}

function parseLine(text: string): RuntimeLogLine | undefined {
  try {
    const value = JSON.parse(text);
    return typeof value?.seq === 'number' ? value : undefined;
  } catch {
    return undefined; // a line torn by a crash mid-write
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * Complete lines of a file from the end backwards, at most `max`, newest
 * first. A last line without its newline (torn write) is skipped.
 */
async function readLinesBackward(file: string, max: number): Promise<string[]> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const lines: string[] = [];
    let position = size;
    // Bytes of a line whose start lies in the blocks not read yet.
    let carry = Buffer.alloc(0);
    let sawLastNewline = false;
    while (position > 0 && lines.length < max) {
      const length = Math.min(64 * 1024, position);
      position -= length;
      const block = Buffer.alloc(length);
      await handle.read(block, 0, length, position);
      let data = Buffer.concat([block, carry]);
      if (!sawLastNewline) {
        // Whatever follows the file's last newline is a torn write.
        const last = data.lastIndexOf(0x0a);
        if (last < 0) {
          carry = Buffer.alloc(0);
          continue;
        }
        data = data.subarray(0, last);
        sawLastNewline = true;
      }
      // 0x0a never occurs inside a multi-byte UTF-8 sequence.
      let end = data.length;
      let newline = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1;
      while (newline >= 0 && lines.length < max) {
        if (end > newline + 1) {
          lines.push(data.toString('utf8', newline + 1, end));
        }
        end = newline;
        newline = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1;
      }
      carry = Buffer.from(data.subarray(0, end));
    }
    if (position === 0 && carry.length > 0 && lines.length < max) {
      lines.push(carry.toString('utf8'));
    }
    return lines;
  } finally {
    await handle.close();
  }
}

/** Lines with seq > afterSeq in file order, at most `max`. */
async function scanForward(
  file: string,
  afterSeq: number,
  max: number,
  into: RuntimeLogLine[],
): Promise<void> {
  let stream: fs.ReadStream;
  try {
    await fs.promises.access(file);
    stream = fs.createReadStream(file, { encoding: 'utf8' });
  } catch {
    return;
  }
  const lines = readline.createInterface({
    input: stream,
    crlfDelay: Infinity,
  });
  try {
    for await (const text of lines) {
      if (into.length >= max) break;
      const seq = seqOf(text);
      if (seq === undefined || seq <= afterSeq) continue;
      const line = parseLine(text);
      if (line) into.push(line);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/**
 * One deployment's logs: an append-only file of JSON lines (so they survive a
 * backend restart) plus the newest lines in memory. `seq` continues from the
 * last line in the file. Writes are batched and serialized with reads, so a
 * read sees every line appended before it.
 */
export class DeploymentLogs {
  private seq: number;
  private memory: RuntimeLogLine[] = [];
  /** True while memory holds every line the files hold. */
  private memoryComplete: boolean;
  private pending: string[] = [];
  private flushQueued = false;
  private io: Promise<void> = Promise.resolve();
  private fileBytes: number;
  private needsNewline: boolean;
  private writeFailing = false;
  private readonly memoryLines: number;
  private readonly maxFileBytes: number;

  static async open(
    file: string,
    options: DeploymentLogsOptions = {},
  ): Promise<DeploymentLogs> {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const size = await fileSize(file);
    let lastSeq = 0;
    for (const candidate of [file, `${file}.1`]) {
      const [last] = await readLinesBackward(candidate, 1);
      const seq = last === undefined ? undefined : seqOf(last);
      if (seq !== undefined) {
        lastSeq = seq;
        break;
      }
    }
    let endsWithNewline = true;
    if (size > 0) {
      const handle = await fs.promises.open(file, 'r');
      try {
        const byte = Buffer.alloc(1);
        await handle.read(byte, 0, 1, size - 1);
        endsWithNewline = byte[0] === 0x0a;
      } finally {
        await handle.close();
      }
    }
    const previousBytes = await fileSize(`${file}.1`);
    return new DeploymentLogs(file, options, {
      lastSeq,
      size,
      endsWithNewline,
      empty: size === 0 && previousBytes === 0,
    });
  }

  private constructor(
    readonly file: string,
    private readonly options: DeploymentLogsOptions,
    initial: {
      lastSeq: number;
      size: number;
      endsWithNewline: boolean;
      empty: boolean;
    },
  ) {
    this.seq = initial.lastSeq;
    this.fileBytes = initial.size;
    this.needsNewline = !initial.endsWithNewline;
    this.memoryComplete = initial.empty;
    this.memoryLines = options.memoryLines ?? 2000;
    this.maxFileBytes = options.maxFileBytes ?? 32 * 1024 * 1024;
  }

  get lastSeq(): number {
    return this.seq;
  }

  append(
    stream: RuntimeLogLine['stream'],
    text: string,
    replica?: string,
  ): RuntimeLogLine {
    // Key order matters: seqOf() reads the seq from the line's start.
    // Two literals rather than a spread of an optional part: this runs for
    // every access log line, and V8 builds spreads on a slow path.
    const seq = ++this.seq;
    const time = new Date().toISOString();
    const line: RuntimeLogLine = replica
      ? { seq, time, replica, stream, line: text }
      : { seq, time, stream, line: text };
    this.memory.push(line);
    // Trim in batches so appends stay O(1) amortized.
    if (this.memory.length > 2 * this.memoryLines) {
      this.memory = this.memory.slice(-this.memoryLines);
      this.memoryComplete = false;
    }
    this.pending.push(`${JSON.stringify(line)}\n`);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flush();
      });
    }
    try {
      this.options.onLine?.(line);
    } catch (error) {
      this.options.onError?.(error as Error);
    }
    return line;
  }

  /** Resolves once every line appended so far is in the file. */
  flush(): Promise<void> {
    this.flushQueued = false;
    if (this.pending.length === 0) return this.io;
    let chunk = this.pending.join('');
    this.pending = [];
    if (this.needsNewline) {
      chunk = `\n${chunk}`;
      this.needsNewline = false;
    }
    return this.serialize(async () => {
      const bytes = Buffer.byteLength(chunk);
      if (this.fileBytes > 0 && this.fileBytes + bytes > this.maxFileBytes) {
        await fs.promises.rename(this.file, `${this.file}.1`);
        this.fileBytes = 0;
      }
      await fs.promises.appendFile(this.file, chunk);
      this.fileBytes += bytes;
      this.writeFailing = false;
    }).catch(error => {
      // Report once per failing streak; the lines stay in memory.
      if (!this.writeFailing) this.options.onError?.(error);
      this.writeFailing = true;
    });
  }

  /** Frees the in-memory tail (the deployment stopped); reads use the file. */
  async release(): Promise<void> {
    await this.flush();
    if (this.memory.length > 0) this.memoryComplete = false;
    this.memory = [];
  }

  /**
   * With `afterSeq`: the lines after it, oldest first, at most `tail` (default
   * {@link DEFAULT_PAGE}). Otherwise the last `tail` lines (default
   * {@link DEFAULT_TAIL}). Never more than {@link MAX_READ_LINES}.
   */
  async read(
    options: { tail?: number; afterSeq?: number } = {},
  ): Promise<RuntimeLogLine[]> {
    const { afterSeq } = options;
    const requested =
      options.tail ?? (afterSeq === undefined ? DEFAULT_TAIL : DEFAULT_PAGE);
    const limit = Math.max(0, Math.min(Math.floor(requested), MAX_READ_LINES));
    if (limit === 0) return [];
    const memory = this.memory;
    const firstInMemory = memory[0]?.seq;

    if (afterSeq !== undefined) {
      if (afterSeq >= this.seq) return [];
      // Memory holds consecutive seqs, so the start index is arithmetic.
      if (
        this.memoryComplete ||
        (firstInMemory !== undefined && firstInMemory <= afterSeq + 1)
      ) {
        const start = Math.max(0, afterSeq + 1 - (firstInMemory ?? 0));
        return memory.slice(start, start + limit);
      }
      await this.flush();
      return this.serialize(async () => {
        const lines: RuntimeLogLine[] = [];
        await scanForward(`${this.file}.1`, afterSeq, limit, lines);
        await scanForward(this.file, afterSeq, limit, lines);
        return lines;
      });
    }

    if (memory.length >= limit || this.memoryComplete) {
      return memory.slice(-limit);
    }
    await this.flush();
    return this.serialize(async () => {
      const texts = await readLinesBackward(this.file, limit);
      if (texts.length < limit) {
        texts.push(
          ...(await readLinesBackward(`${this.file}.1`, limit - texts.length)),
        );
      }
      return texts
        .reverse()
        .map(parseLine)
        .filter((line): line is RuntimeLogLine => line !== undefined);
    });
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.io.then(operation);
    this.io = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
