import { ConflictError, InputError } from '@backstage/errors';
import fs from 'node:fs/promises';
import { join } from 'node:path';
import { AtomicTextFile, tempPathFor } from './atomicFile';
import { csvLine } from './csv';
import { csvFileRanges } from './csvRanges';
import { assertChunkFormat } from './format';
import { ChunkDescriptor, ChunkFormat, RowSource } from './types';
import { toCsvCell } from './values';

export const DEFAULT_ID_COLUMN = '__row_id';

const MANIFEST = 'plan.json';
const CHUNK_FILE = /^chunk-(\d+)\.(csv|jsonl)$/;
const TEMP_FILE = /^chunk-\d+\.(csv|jsonl)\.tmp-/;

export interface PlanChunksOptions {
  source: RowSource;
  /** Rows per chunk. */
  chunkSize: number;
  /** Directory for the chunk files; created if missing. */
  dir: string;
  /** Chunk file format; defaults to `source.chunkFormat()`. */
  format?: ChunkFormat;
  /** Name of the row id column in chunk files; default `__row_id`. */
  idColumn?: string;
  /**
   * fsync each chunk file before renaming it into place, so a power loss
   * cannot leave a complete-looking but empty file. Default true.
   */
  durable?: boolean;
}

export interface PlanSummary {
  chunks: number;
  rows: number;
  format: ChunkFormat;
}

/** `chunk-000012.jsonl`: zero-padded so names sort in sequence order. */
export function chunkFileName(seq: number, format: ChunkFormat): string {
  return `chunk-${String(seq).padStart(6, '0')}.${format}`;
}

interface Manifest {
  chunkSize: number;
  format: ChunkFormat;
  idColumn: string;
  /** Size and modification time of an input file read in byte ranges. */
  input?: string;
}

/**
 * Records the parameters in the directory: reusing chunk files planned with
 * another chunk size or format would silently give wrong boundaries, and
 * byte ranges of an input file that changed would give other rows.
 */
async function checkManifest(
  dir: string,
  wanted: Manifest,
  description: string,
): Promise<void> {
  const path = join(dir, MANIFEST);
  let existing: Manifest | undefined;
  try {
    existing = JSON.parse(await fs.readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing) {
    if (
      existing.input !== undefined &&
      wanted.input !== undefined &&
      existing.input !== wanted.input
    ) {
      throw new ConflictError(
        `${description} changed since the execution was planned (${existing.input}, now ${wanted.input})`,
      );
    }
    for (const key of ['chunkSize', 'format', 'idColumn'] as const) {
      if (existing[key] !== wanted[key]) {
        throw new ConflictError(
          `chunk directory ${dir} was planned with ${key} ${JSON.stringify(
            existing[key],
          )}, not ${JSON.stringify(wanted[key])}`,
        );
      }
    }
    return;
  }
  const temp = tempPathFor(path);
  await fs.writeFile(temp, `${JSON.stringify(wanted)}\n`);
  await fs.rename(temp, path);
}

/** Record ranges of a CSV file; a file that cannot be read is bad input. */
async function* readRanges(path: string, chunkSize: number, label: string) {
  try {
    yield* csvFileRanges(path, chunkSize);
  } catch (error) {
    if (error instanceof InputError) {
      throw new InputError(`${label}: ${error.message}`);
    }
    if ((error as NodeJS.ErrnoException).code) {
      throw new InputError(
        `${label}: cannot read: ${(error as Error).message}`,
      );
    }
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Streams `source` into chunk files of `chunkSize` rows in `dir` and yields
 * each chunk as soon as its file is complete, so chunk 0 can run while the
 * rest is still being read. Each line holds the row's values plus its
 * 0-based row id in `idColumn`. A local CSV file is not copied: its chunks
 * are byte ranges of the file (only record boundaries are looked for), and
 * row ids count from `rowStart`.
 *
 * Deterministic and resumable: a chunk's rows and file name depend only on
 * the source's row order and the chunk size, files are written under a
 * temporary name and renamed (so a file that exists is complete), and a
 * re-plan keeps the files already there instead of rewriting them. Memory is
 * flat: rows go straight to the file through a small write buffer.
 */
export async function* planChunks(
  options: PlanChunksOptions,
): AsyncGenerator<ChunkDescriptor, PlanSummary, undefined> {
  const { source, chunkSize, dir } = options;
  const idColumn = options.idColumn ?? DEFAULT_ID_COLUMN;
  const durable = options.durable ?? true;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new InputError(
      `chunkSize must be a positive integer, got ${chunkSize}`,
    );
  }
  const format = options.format ?? (await source.chunkFormat());
  assertChunkFormat(format);

  // A local CSV file is not copied: workers read their byte range of it.
  const rangeFile =
    format === 'csv' ? await source.localCsvFile?.() : undefined;
  let input: string | undefined;
  if (rangeFile) {
    const stat = await fs.stat(rangeFile).catch(error => {
      throw new InputError(
        `${source.description}: cannot read: ${(error as Error).message}`,
      );
    });
    input = `${stat.size} bytes, modified ${stat.mtime.toISOString()}`;
  }

  await fs.mkdir(dir, { recursive: true });
  await checkManifest(
    dir,
    { chunkSize, format, idColumn, input },
    source.description,
  );
  // temporary files of a run that crashed mid-chunk
  for (const name of await fs.readdir(dir)) {
    if (TEMP_FILE.test(name)) await fs.rm(join(dir, name), { force: true });
  }

  // CSV needs the header up front; every row must fit in it
  const csvColumns = format === 'csv' ? await source.columns() : [];
  const csvKnown = new Set(csvColumns);
  if (csvKnown.has(idColumn)) {
    throw new InputError(
      `${source.description} has a column named '${idColumn}', which is reserved for row ids`,
    );
  }
  const csvHeader = format === 'csv' ? csvLine([idColumn, ...csvColumns]) : '';
  const idKey = JSON.stringify(idColumn);

  let writer: AtomicTextFile | undefined;
  let current: Omit<ChunkDescriptor, 'rowEnd'> | undefined;
  let rows = 0;
  let chunks = 0;

  const finishChunk = async (): Promise<ChunkDescriptor> => {
    const chunk = { ...current!, rowEnd: rows };
    if (writer) {
      await writer.commit(durable);
      writer = undefined;
    }
    current = undefined;
    chunks += 1;
    return chunk;
  };

  const startRow = async () => {
    if (current) return;
    const seq = chunks;
    const path = join(dir, chunkFileName(seq, format));
    const reused = await exists(path);
    current = { seq, rowStart: rows, path, format, reused };
    if (!reused) {
      writer = await AtomicTextFile.open(path);
      if (format === 'csv') await writer.append(csvHeader);
    }
  };

  try {
    if (rangeFile) {
      for await (const { header, records, ...range } of readRanges(
        rangeFile,
        chunkSize,
        source.description,
      )) {
        yield {
          seq: chunks,
          rowStart: rows,
          rowEnd: rows + records,
          path: rangeFile,
          format,
          range: { ...range, header },
          reused: false,
        };
        rows += records;
        chunks += 1;
      }
    } else if (format === 'csv' && source.csvRecordTexts) {
      // CSV to CSV: records are copied with their row id, not parsed.
      for await (const batch of source.csvRecordTexts()) {
        for (const record of batch) {
          await startRow();
          if (writer && writer.write(`${rows},${record}\n`))
            await writer.flush();
          rows += 1;
          if (rows % chunkSize === 0) yield await finishChunk();
        }
      }
    } else {
      for await (const row of source.rows()) {
        if (row.index !== rows) {
          throw new Error(
            `${source.description} produced row index ${row.index} where ${rows} was expected`,
          );
        }
        await startRow();
        const { values } = row;
        if (Object.prototype.hasOwnProperty.call(values, idColumn)) {
          throw new InputError(
            `${source.description} has a column named '${idColumn}', which is reserved for row ids`,
          );
        }
        if (writer) {
          let full: boolean;
          if (format === 'jsonl') {
            let body: string;
            try {
              body = JSON.stringify(values);
            } catch (error) {
              throw new InputError(
                `${
                  source.description
                }: row ${rows} cannot be written as JSON: ${
                  (error as Error).message
                }`,
              );
            }
            full = writer.write(
              body === '{}'
                ? `{${idKey}:${rows}}\n`
                : `{${idKey}:${rows},${body.slice(1)}\n`,
            );
          } else {
            for (const key of Object.keys(values)) {
              if (!csvKnown.has(key)) {
                throw new InputError(
                  `${
                    source.description
                  }: row ${rows} has column '${key}', which is not among the input's columns (${csvColumns.join(
                    ', ',
                  )})`,
                );
              }
            }
            const record = [String(rows)];
            for (const name of csvColumns) record.push(toCsvCell(values[name]));
            full = writer.write(csvLine(record));
          }
          if (full) await writer.flush();
        }
        rows += 1;
        if (rows % chunkSize === 0) yield await finishChunk();
      }
    }
    if (current) yield await finishChunk();
  } finally {
    // stopped early or failed mid-chunk: leave no partial file behind
    if (writer) await writer.abort();
  }

  // chunk files past the end, from an earlier plan of a longer input
  for (const name of await fs.readdir(dir)) {
    const match = CHUNK_FILE.exec(name);
    if (match && match[2] === format && Number(match[1]) >= chunks) {
      await fs.rm(join(dir, name), { force: true });
    }
  }
  return { chunks, rows, format };
}
