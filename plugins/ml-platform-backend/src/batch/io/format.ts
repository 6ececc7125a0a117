import { InputError } from '@backstage/errors';
import { Readable } from 'node:stream';
import { ChunkFormat, InputFormat, OutputFormat } from './types';

const PARQUET_MAGIC = Buffer.from('PAR1', 'ascii');

/** Format implied by a file name or URL path, if its extension says so. */
export function formatFromName(name: string): InputFormat | undefined {
  // URLs: ignore the query string and fragment
  const path = name.replace(/[?#].*$/, '').toLowerCase();
  if (path.endsWith('.csv')) return 'csv';
  if (
    path.endsWith('.jsonl') ||
    path.endsWith('.ndjson') ||
    path.endsWith('.json')
  ) {
    return 'jsonl';
  }
  if (path.endsWith('.parquet') || path.endsWith('.parq')) return 'parquet';
  return undefined;
}

/**
 * Format implied by the first bytes: Parquet files start with `PAR1`, JSON
 * lines with `{`; anything else is taken as CSV.
 */
export function formatFromHead(head: Buffer): InputFormat {
  if (head.length >= 4 && head.subarray(0, 4).equals(PARQUET_MAGIC)) {
    return 'parquet';
  }
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return text.startsWith('{') ? 'jsonl' : 'csv';
}

export function isParquetMagic(bytes: Buffer): boolean {
  return bytes.length === 4 && bytes.equals(PARQUET_MAGIC);
}

const INPUT_FORMATS: readonly string[] = ['csv', 'jsonl', 'parquet'];
const CHUNK_FORMATS: readonly string[] = ['csv', 'jsonl'];

function assertOneOf(
  kind: string,
  format: string,
  allowed: readonly string[],
): void {
  if (!allowed.includes(format)) {
    throw new InputError(
      `unknown ${kind} format '${format}', expected one of ${allowed.join(
        ', ',
      )}`,
    );
  }
}

export function assertInputFormat(
  format: string,
): asserts format is InputFormat {
  assertOneOf('input', format, INPUT_FORMATS);
}

export function assertOutputFormat(
  format: string,
): asserts format is OutputFormat {
  assertOneOf('output', format, INPUT_FORMATS);
}

export function assertChunkFormat(
  format: string,
): asserts format is ChunkFormat {
  assertOneOf('chunk', format, CHUNK_FORMATS);
}

/**
 * Reads at least `bytes` bytes (or the whole stream if shorter) and returns
 * them together with a stream that replays them followed by the rest, so
 * format detection does not cost a second download.
 */
export async function peekStream(
  input: Readable,
  bytes: number,
): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = input[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  try {
    while (size < bytes) {
      const next = await iterator.next();
      if (next.done) break;
      const part = Buffer.isBuffer(next.value)
        ? next.value
        : Buffer.from(next.value as string);
      parts.push(part);
      size += part.length;
    }
  } catch (error) {
    input.destroy();
    throw error;
  }
  const head = Buffer.concat(parts);
  async function* replay() {
    try {
      if (head.length > 0) yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value as Buffer;
      }
    } finally {
      // destroys the original stream when the consumer stops early
      await iterator.return?.();
    }
  }
  return { head, stream: Readable.from(replay(), { objectMode: false }) };
}
