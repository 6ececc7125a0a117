import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { readLines } from './lines';

/**
 * Opens a file a worker wrote. Workers may run as another user who owns
 * their result directory: a symlink there must not make the backend read
 * a file of its own, nor a FIFO make it wait forever.
 */
export async function openWorkerFile(path: string): Promise<fs.FileHandle> {
  const handle = await fs.open(
    path,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  );
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new Error(`${path} is not a regular file`);
  }
  return handle;
}

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
  let handle: fs.FileHandle;
  try {
    handle = await openWorkerFile(path);
  } catch {
    throw new Error(`result file ${path} does not exist`);
  }
  for await (const { line, lineNumber } of readLines(
    handle.createReadStream(),
  )) {
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
