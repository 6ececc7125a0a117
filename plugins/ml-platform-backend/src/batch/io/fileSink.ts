import { InputError } from '@backstage/errors';
import fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { AtomicTextFile, tempPathFor } from './atomicFile';
import { csvLine } from './csv';
import { assertOutputFormat } from './format';
import {
  ParquetColumnSpec,
  ParquetColumnType,
  ParquetRowWriter,
} from './parquet';
import { DEFAULT_ID_COLUMN } from './planner';
import { readResultFile } from './results';
import { fileSource } from './sources';
import { ChunkResult, OutputFormat, ResultSink } from './types';
import {
  ValueKind,
  kindOf,
  mergeKinds,
  predictionFields,
  toCsvCell,
} from './values';

export const ROW_ID_COLUMN = 'row_id';

export interface AssembleOptions {
  /** Every chunk's result file; assembled in seq order. */
  chunkResults: ChunkResult[];
  /** The output file; written to a temporary name and renamed at the end. */
  dest: string;
  format: OutputFormat;
  /**
   * Input columns to copy next to the predictions (e.g. a customer id), read
   * from each chunk's `inputPath` in step with its results.
   */
  inputColumns?: string[];
  /** Row id column of the chunk input files; default `__row_id`. */
  idColumn?: string;
  /** Rows per Parquet row group; default 10000. */
  rowGroupSize?: number;
  /** fsync before the final rename; default true. */
  durable?: boolean;
}

export interface AssembleSummary {
  dest: string;
  format: OutputFormat;
  rows: number;
  columns: string[];
}

/** One output row without its id: input columns, then prediction fields. */
interface OutputRecord {
  rowId: number;
  fields: Record<string, unknown>;
}

function sortedResults(chunkResults: ChunkResult[]): ChunkResult[] {
  const sorted = [...chunkResults].sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].seq === sorted[i - 1].seq) {
      throw new Error(`chunk ${sorted[i].seq} has more than one result file`);
    }
  }
  return sorted;
}

/**
 * Output records in row order: each chunk's results, optionally joined line
 * by line with the chunk's input file (the worker writes results in input
 * order), with dict predictions spread into columns.
 */
async function* outputRecords(
  results: ChunkResult[],
  inputColumns: string[],
  idColumn: string,
): AsyncGenerator<OutputRecord> {
  const inputSet = new Set(inputColumns);
  let lastRowId = -1;
  for (const chunk of results) {
    const inputs = inputColumns.length
      ? fileSource(chunk.inputPath!).rows()[Symbol.asyncIterator]()
      : undefined;
    try {
      for await (const { rowId, prediction } of readResultFile(chunk.path)) {
        if (rowId <= lastRowId) {
          throw new Error(
            `result file ${chunk.path}: row_id ${rowId} comes after ${lastRowId}; results must be in row order`,
          );
        }
        lastRowId = rowId;
        const fields: Record<string, unknown> = {};
        if (inputs) {
          const next = await inputs.next();
          if (next.done) {
            throw new Error(
              `chunk ${chunk.seq}: result file ${chunk.path} has more rows than its input ${chunk.inputPath}`,
            );
          }
          const values = next.value.values;
          if (Number(values[idColumn]) !== rowId) {
            throw new Error(
              `chunk ${
                chunk.seq
              }: result row_id ${rowId} does not match input row ${String(
                values[idColumn],
              )} of ${chunk.inputPath}`,
            );
          }
          for (const name of inputColumns) {
            if (!(name in values)) {
              throw new InputError(
                `input column '${name}' is not in the input (row ${rowId})`,
              );
            }
            fields[name] = values[name];
          }
        }
        for (const [name, value] of Object.entries(
          predictionFields(prediction),
        )) {
          if (name === ROW_ID_COLUMN || inputSet.has(name)) {
            throw new InputError(
              `prediction field '${name}' of row ${rowId} clashes with the output column '${name}'`,
            );
          }
          fields[name] = value;
        }
        yield { rowId, fields };
      }
      if (inputs && !(await inputs.next()).done) {
        throw new Error(
          `chunk ${chunk.seq}: result file ${chunk.path} has fewer rows than its input ${chunk.inputPath}`,
        );
      }
    } finally {
      await inputs?.return?.();
    }
  }
}

/** First pass for CSV and Parquet: every column (first-seen order) and its kind. */
async function scanColumns(
  records: AsyncIterable<OutputRecord>,
): Promise<Map<string, ValueKind | undefined>> {
  const kinds = new Map<string, ValueKind | undefined>();
  for await (const { fields } of records) {
    for (const name of Object.keys(fields)) {
      kinds.set(name, mergeKinds(kinds.get(name), kindOf(fields[name])));
    }
  }
  return kinds;
}

const PARQUET_TYPES: Record<ValueKind, ParquetColumnType> = {
  boolean: 'BOOLEAN',
  integer: 'INT64',
  double: 'DOUBLE',
  text: 'STRING',
  json: 'JSON',
};

/**
 * Concatenates chunk result files, in seq order, into one output file with a
 * `row_id` column and one column per prediction field (`prediction` for
 * scalar predictions). Streams: CSV and Parquet read the results twice (once
 * to learn the columns and their types, once to write), holding at most one
 * Parquet row group. The destination appears complete or not at all.
 */
export async function assemble(
  options: AssembleOptions,
): Promise<AssembleSummary> {
  const { dest, format } = options;
  assertOutputFormat(format);
  const inputColumns = options.inputColumns ?? [];
  const idColumn = options.idColumn ?? DEFAULT_ID_COLUMN;
  const durable = options.durable ?? true;
  const results = sortedResults(options.chunkResults);
  if (inputColumns.includes(ROW_ID_COLUMN)) {
    throw new InputError(
      `input column '${ROW_ID_COLUMN}' clashes with the output's row id column`,
    );
  }
  if (inputColumns.length) {
    const missing = results.filter(r => !r.inputPath);
    if (missing.length) {
      throw new Error(
        `copying input columns needs the input file of chunk ${missing[0].seq}`,
      );
    }
  }
  const records = () => outputRecords(results, inputColumns, idColumn);
  await fs.mkdir(dirname(dest), { recursive: true });

  if (format === 'jsonl') {
    const file = await AtomicTextFile.open(dest);
    const columns = new Set<string>([ROW_ID_COLUMN]);
    let rows = 0;
    try {
      for await (const { rowId, fields } of records()) {
        const body = JSON.stringify(fields);
        for (const name of Object.keys(fields)) columns.add(name);
        const full = file.write(
          body === '{}'
            ? `{"row_id":${rowId}}\n`
            : `{"row_id":${rowId},${body.slice(1)}\n`,
        );
        if (full) await file.flush();
        rows += 1;
      }
      await file.commit(durable);
    } catch (error) {
      await file.abort();
      throw error;
    }
    return { dest, format, rows, columns: [...columns] };
  }

  const kinds = await scanColumns(records());
  const names = [...kinds.keys()];
  const columns = [ROW_ID_COLUMN, ...names];
  let rows = 0;

  if (format === 'csv') {
    const file = await AtomicTextFile.open(dest);
    try {
      await file.append(csvLine(columns));
      for await (const { rowId, fields } of records()) {
        const record = [String(rowId)];
        for (const name of names) record.push(toCsvCell(fields[name]));
        if (file.write(csvLine(record))) await file.flush();
        rows += 1;
      }
      await file.commit(durable);
    } catch (error) {
      await file.abort();
      throw error;
    }
    return { dest, format, rows, columns };
  }

  const specs: ParquetColumnSpec[] = [
    { name: ROW_ID_COLUMN, type: 'INT64', nullable: false },
    ...names.map(name => {
      const kind = kinds.get(name);
      // a column that is null everywhere still needs a type
      return { name, type: kind ? PARQUET_TYPES[kind] : 'STRING' } as const;
    }),
  ];
  const temp = tempPathFor(dest);
  const writer = await ParquetRowWriter.create(temp, specs, {
    rowGroupSize: options.rowGroupSize,
  });
  try {
    for await (const { rowId, fields } of records()) {
      await writer.write([rowId, ...names.map(name => fields[name])]);
      rows += 1;
    }
    await writer.close();
    if (durable) {
      const handle = await fs.open(temp, 'r');
      await handle.sync().finally(() => handle.close());
    }
    await fs.rename(temp, dest);
  } catch (error) {
    await writer.abort();
    await fs.rm(temp, { force: true });
    throw error;
  }
  return { dest, format, rows, columns };
}

/**
 * A file output. Results are only assembled once every chunk is done (the
 * file is written in row order); `writeChunk` checks each result file as its
 * chunk succeeds so a malformed one fails that chunk, not the final step.
 */
export class FileResultSink implements ResultSink {
  readonly description: string;

  constructor(private readonly options: Omit<AssembleOptions, 'chunkResults'>) {
    assertOutputFormat(options.format);
    this.description = `${options.format} file ${options.dest}`;
  }

  async writeChunk(resultPath: string): Promise<{ rows: number }> {
    let rows = 0;
    for await (const _ of readResultFile(resultPath)) rows += 1;
    return { rows };
  }

  async finish(results: ChunkResult[]): Promise<AssembleSummary> {
    return assemble({ ...this.options, chunkResults: results });
  }
}
