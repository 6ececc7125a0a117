/** Formats a batch input can be read from. */
export type InputFormat = 'csv' | 'jsonl' | 'parquet';

/**
 * Formats of the chunk files handed to the Python batch worker (it reads CSV
 * and JSON lines only).
 */
export type ChunkFormat = 'csv' | 'jsonl';

/** Formats a batch output file can be written in. */
export type OutputFormat = 'csv' | 'jsonl' | 'parquet';

/** One input row: its 0-based position in the dataset and its values. */
export interface SourceRow {
  index: number;
  values: Record<string, unknown>;
}

/**
 * A re-readable dataset. Every call to `rows()` (or async iteration) starts a
 * fresh pass from the first row, which is what makes re-planning after a
 * crash possible; rows are produced one at a time so memory stays flat.
 */
export interface RowSource extends AsyncIterable<SourceRow> {
  /** Human-readable name used in error messages, e.g. `CSV file /data/in.csv`. */
  readonly description: string;
  rows(): AsyncIterable<SourceRow>;
  /** Column names, without reading the whole dataset. */
  columns(): Promise<string[]>;
  /**
   * The chunk format that keeps the values' meaning: `csv` when the values are
   * untyped strings (the worker coerces CSV cells by the model schema but
   * checks JSON values strictly), `jsonl` for typed values.
   */
  chunkFormat(): Promise<ChunkFormat>;
  /**
   * CSV inputs only: the raw text of each data record after the header
   * (quoted line breaks kept, blank lines skipped), in batches. The planner
   * copies records into CSV chunks without parsing them; the worker parses
   * and checks them by the model's schema anyway.
   */
  csvRecordTexts?(): AsyncIterable<string[]>;
  /**
   * The path of a local CSV file, else undefined: the planner then hands
   * workers byte ranges of the file itself instead of copying its records.
   */
  localCsvFile?(): Promise<string | undefined>;
  /** Releases temporary files (e.g. a spooled Parquet upload). */
  close(): Promise<void>;
}

/**
 * The records of a chunk as bytes [offset, offset + length) of the input
 * file, to be parsed under `header`; `firstLine` is the file line the range
 * starts on.
 */
export interface ChunkByteRange {
  offset: number;
  length: number;
  header: string;
  firstLine: number;
}

/**
 * One planned chunk: rows [rowStart, rowEnd) written to `path`, or with
 * `range`, found at that byte range of the input file `path`.
 */
export interface ChunkDescriptor {
  seq: number;
  rowStart: number;
  rowEnd: number;
  path: string;
  format: ChunkFormat;
  range?: ChunkByteRange;
  /** True when the file was already there from an earlier run and kept. */
  reused: boolean;
}

/**
 * A chunk's prediction file written by the worker, one
 * `{"row_id", "prediction"}` line per input row, in row order.
 */
export interface ChunkResult {
  seq: number;
  path: string;
  /**
   * The chunk's input file (a chunk file, not a byte range of the input);
   * needed only to copy input columns to the output.
   */
  inputPath?: string;
}

/** Where a batch execution's results go. */
export interface ResultSink {
  /** Human-readable name used in messages, e.g. `table churn_scores`. */
  readonly description: string;
  /**
   * True when the workers should write each chunk's lines in their final
   * form (`--columns`), which the sink then joins as they are.
   */
  readonly workersWriteFinalLines?: boolean;
  /**
   * Called as each chunk succeeds with the worker's row count; must be
   * idempotent (chunks are retried).
   */
  writeChunk(
    resultPath: string,
    seq: number,
    rows?: number,
  ): Promise<{ rows: number }>;
  /** A chunk that succeeded before a restart (its result file is there). */
  alreadyWritten?(resultPath: string, seq: number): void;
  /** Releases open files when the execution stops before `finish`. */
  close?(): Promise<void>;
  /**
   * Called once after every chunk succeeded, with all results sorted by seq.
   * A file output may give the file's `sha256:<hex>`, computed while writing.
   */
  finish(results: ChunkResult[]): Promise<{ rows: number; digest?: string }>;
}
