import fs from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { RowSource, SourceRow } from './types';

/** A fresh temporary directory, removed by the returned cleanup. */
export async function makeTempDir(): Promise<{
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await fs.mkdtemp(join(os.tmpdir(), 'mlp-batch-io-'));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

export async function collect(source: RowSource | AsyncIterable<SourceRow>) {
  const rows: SourceRow[] = [];
  for await (const row of source) rows.push(row);
  return rows;
}

export async function readJsonl(path: string): Promise<any[]> {
  const text = await fs.readFile(path, 'utf8');
  return text
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => JSON.parse(line));
}

/** Writes a result file the way the Python worker does. */
export async function writeResults(
  path: string,
  results: Array<[number, unknown]>,
): Promise<string> {
  await fs.writeFile(
    path,
    results
      .map(([rowId, prediction]) =>
        JSON.stringify({ row_id: rowId, prediction }),
      )
      .join('\n') + (results.length ? '\n' : ''),
  );
  return path;
}
