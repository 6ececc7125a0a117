import { StringDecoder } from 'node:string_decoder';
import { InputError } from '@backstage/errors';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertInputFormat,
  formatFromHead,
  formatFromName,
  peekStream,
} from './format';
import { openParquet, readParquetRows } from './parquet';
import {
  readCsvHeader,
  readCsvRows,
  readJsonlColumns,
  readJsonlRows,
} from './textFormats';
import { ChunkFormat, InputFormat, RowSource, SourceRow } from './types';

const FORMAT_LABEL: Record<InputFormat, string> = {
  csv: 'CSV',
  jsonl: 'JSON lines',
  parquet: 'Parquet',
};

/** Bytes read to recognise a format: enough for `PAR1` or a leading `{`. */
const SNIFF_BYTES = 64;

type Opened =
  | { format: 'csv' | 'jsonl'; stream: Readable }
  | { format: 'parquet'; path: string };

interface EncodedSourceOptions {
  open: () => Promise<Readable> | Readable;
  format?: InputFormat;
  /** File name or URL: its extension gives the format; used in messages. */
  name?: string;
  /** Set for local files: Parquet is then read in place, not copied. */
  localPath?: string;
  /** Where a Parquet stream is spooled (it needs random access). */
  tmpDir?: string;
  /** Workers cannot open `localPath`: CSV chunks are copied, not ranges of it. */
  workersCannotRead?: boolean;
}

/**
 * Splits CSV text into records without parsing fields: a line break ends a
 * record only outside quotes (each `"` toggles; the `""` escape toggles twice).
 * Skips the header and blank lines, strips a trailing `\r`.
 */
export async function* splitCsvRecords(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  // Text after the last record boundary: always starts outside quotes.
  let pending = '';
  let headerSeen = false;
  const emit = (text: string, out: string[]) => {
    const record = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (!headerSeen) {
      headerSeen = true;
    } else if (record.length > 0) {
      out.push(record);
    }
  };
  const scan = (text: string): string[] => {
    const out: string[] = [];
    let start = 0;
    let inQuotes = false;
    let quote = text.indexOf('"');
    for (
      let nl = text.indexOf('\n');
      nl !== -1;
      nl = text.indexOf('\n', nl + 1)
    ) {
      while (quote !== -1 && quote < nl) {
        inQuotes = !inQuotes;
        quote = text.indexOf('"', quote + 1);
      }
      if (!inQuotes) {
        emit(text.slice(start, nl), out);
        start = nl + 1;
      }
    }
    pending = text.slice(start);
    return out;
  };
  for await (const piece of input) {
    const text =
      pending + (typeof piece === 'string' ? piece : decoder.write(piece));
    const records = scan(text);
    if (records.length) yield records;
  }
  const out: string[] = [];
  const rest = pending + decoder.end();
  if (rest.length) emit(rest, out);
  if (out.length) yield out;
}

/**
 * A CSV, JSON lines or Parquet dataset behind a stream factory. The format
 * is the given one, else the name's extension, else sniffed from the first
 * bytes of the stream (which is then replayed, not reopened).
 */
class EncodedSource implements RowSource {
  private format?: InputFormat;
  /** Errors raised by opened streams, to tell them from parsing bugs. */
  private readonly streamErrors = new WeakSet<Error>();
  private spooled?: Promise<{ dir: string; path: string }>;
  private cachedColumns?: string[];

  constructor(private readonly options: EncodedSourceOptions) {
    if (options.format !== undefined) {
      assertInputFormat(options.format);
    }
    this.format =
      options.format ??
      (options.name ? formatFromName(options.name) : undefined);
  }

  get description(): string {
    const what = this.format ? `${FORMAT_LABEL[this.format]} input` : 'input';
    return this.options.name ? `${what} ${this.options.name}` : what;
  }

  [Symbol.asyncIterator](): AsyncIterator<SourceRow> {
    return this.rows()[Symbol.asyncIterator]();
  }

  async *rows(): AsyncGenerator<SourceRow> {
    try {
      const opened = await this.acquire();
      if (opened.format === 'parquet') {
        yield* readParquetRows(opened.path, this.description);
      } else if (opened.format === 'csv') {
        yield* readCsvRows(opened.stream, this.description);
      } else {
        yield* readJsonlRows(opened.stream, this.description);
      }
    } catch (error) {
      throw this.readError(error);
    }
  }

  async *csvRecordTexts(): AsyncGenerator<string[]> {
    try {
      const opened = await this.acquire();
      if (opened.format !== 'csv') {
        throw new Error(`${this.description} is not CSV`);
      }
      yield* splitCsvRecords(opened.stream);
    } catch (error) {
      throw this.readError(error);
    }
  }

  async localCsvFile(): Promise<string | undefined> {
    const { localPath } = this.options;
    if (!localPath || this.options.workersCannotRead) return undefined;
    if ((await this.chunkFormat()) !== 'csv') return undefined;
    return localPath;
  }

  /** A failing input stream (e.g. a dropped download) is bad input. */
  private readError(error: unknown): unknown {
    if (error instanceof Error && this.streamErrors.has(error)) {
      return new InputError(
        `${this.description}: cannot read: ${error.message}`,
      );
    }
    return error;
  }

  async columns(): Promise<string[]> {
    if (!this.cachedColumns) {
      this.cachedColumns = await this.readColumns().catch(error => {
        throw this.readError(error);
      });
    }
    return [...this.cachedColumns];
  }

  private async readColumns(): Promise<string[]> {
    const opened = await this.acquire();
    if (opened.format === 'parquet') {
      const input = await openParquet(opened.path, this.description);
      await input.close();
      return input.columns;
    }
    if (opened.format === 'csv') {
      return readCsvHeader(opened.stream, this.description);
    }
    return readJsonlColumns(opened.stream, this.description);
  }

  async chunkFormat(): Promise<ChunkFormat> {
    if (!this.format) {
      const opened = await this.acquire();
      if (opened.format !== 'parquet') opened.stream.destroy();
    }
    return this.format === 'csv' ? 'csv' : 'jsonl';
  }

  async close(): Promise<void> {
    const spooled = this.spooled;
    this.spooled = undefined;
    if (spooled) {
      const { dir } = await spooled.catch(() => ({ dir: undefined }));
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    }
  }

  private async openStream(): Promise<Readable> {
    const { localPath } = this.options;
    if (localPath) {
      // createReadStream only reports a missing file on first read; say it here
      try {
        const stat = await fs.stat(localPath);
        if (!stat.isFile()) {
          throw new InputError(`${this.description}: not a regular file`);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new InputError(`${this.description}: no such file`);
        }
        throw error;
      }
    }
    try {
      const stream = await this.options.open();
      stream.on('error', error => this.streamErrors.add(error));
      return stream;
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(
        `${this.description}: cannot open: ${(error as Error).message}`,
      );
    }
  }

  private async acquire(): Promise<Opened> {
    const { localPath } = this.options;
    if (this.format === 'parquet') {
      if (localPath) {
        return { format: 'parquet', path: localPath };
      }
      return { format: 'parquet', path: await this.spool() };
    }
    if (this.format) {
      return { format: this.format, stream: await this.openStream() };
    }
    const { head, stream } = await peekStream(
      await this.openStream(),
      SNIFF_BYTES,
    );
    this.format = formatFromHead(head);
    if (this.format !== 'parquet') {
      return { format: this.format, stream };
    }
    if (localPath) {
      stream.destroy();
      return { format: 'parquet', path: localPath };
    }
    return { format: 'parquet', path: await this.spool(stream) };
  }

  /** Parquet needs random access: copy the stream to a temporary file once. */
  private spool(stream?: Readable): Promise<string> {
    if (!this.spooled) {
      this.spooled = (async () => {
        const dir = await fs.mkdtemp(
          join(this.options.tmpDir ?? os.tmpdir(), 'mlp-input-'),
        );
        const path = join(dir, 'input.parquet');
        try {
          await pipeline(
            stream ?? (await this.openStream()),
            createWriteStream(path),
          );
        } catch (error) {
          await fs.rm(dir, { recursive: true, force: true });
          if (error instanceof InputError) throw error;
          throw new InputError(
            `${this.description}: cannot read: ${(error as Error).message}`,
          );
        }
        return { dir, path };
      })();
      // a failed spool may be retried by the next call
      this.spooled.catch(() => {
        this.spooled = undefined;
      });
    } else if (stream) {
      stream.destroy();
    }
    return this.spooled.then(s => s.path);
  }
}

export interface FileSourceOptions {
  /** Defaults to the extension, else the first bytes. */
  format?: InputFormat;
  /** Workers (another user) cannot open the file: CSV chunks are copied. */
  workersCannotRead?: boolean;
}

/** A local CSV, JSON lines or Parquet file. */
export function fileSource(
  path: string,
  options: FileSourceOptions = {},
): RowSource {
  return new EncodedSource({
    open: () => createReadStream(path),
    format: options.format,
    name: path,
    localPath: path,
    workersCannotRead: options.workersCannotRead,
  });
}

export interface StreamSourceOptions {
  /**
   * Opens the data from the start; called once per pass (column check,
   * planning, re-planning), e.g. an upload body or a UrlReader response.
   */
  open: () => Promise<Readable> | Readable;
  /** Defaults to the extension of `name`, else the first bytes. */
  format?: InputFormat;
  /** File name or URL, for the extension and error messages. */
  name?: string;
  /** Directory for the temporary copy of a Parquet stream (os.tmpdir()). */
  tmpDir?: string;
}

/**
 * A dataset read from a stream factory. Parquet streams are copied to a
 * temporary file on first use (the format needs random access); call
 * `close()` to remove it.
 */
export function streamSource(options: StreamSourceOptions): RowSource {
  return new EncodedSource(options);
}
