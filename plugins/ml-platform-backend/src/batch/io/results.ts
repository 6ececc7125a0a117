import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { readLines } from './lines';

/** One line of a worker's result file. */
export interface PredictionRecord {
  rowId: number;
  prediction: unknown;
}

/**
 * Streams a chunk result file written by the batch worker:
 * `{"row_id": <int>, "prediction": <value>}` per line. A malformed line is a
 * worker bug or a truncated file, reported with the file and line.
 */
export async function* readResultFile(
  path: string,
): AsyncGenerator<PredictionRecord> {
  try {
    await fs.access(path);
  } catch {
    throw new Error(`result file ${path} does not exist`);
  }
  for await (const { line, lineNumber } of readLines(createReadStream(path))) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new Error(
        `result file ${path}: line ${lineNumber}: invalid JSON: ${
          (error as Error).message
        }`,
      );
    }
    const record = parsed as { row_id?: unknown; prediction?: unknown };
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      !Number.isSafeInteger(record.row_id) ||
      (record.row_id as number) < 0 ||
      !('prediction' in record)
    ) {
      throw new Error(
        `result file ${path}: line ${lineNumber}: expected {"row_id": <non-negative integer>, "prediction": ...}`,
      );
    }
    yield { rowId: record.row_id as number, prediction: record.prediction };
  }
}
