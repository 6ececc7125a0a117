import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { assemble } from './fileSink';
import { ParquetRowWriter } from './parquet';
import { planChunks } from './planner';
import { fileSource, streamSource } from './sources';
import { ChunkDescriptor, ChunkResult, RowSource } from './types';
import { collect, makeTempDir, readJsonl } from './testUtils';

jest.setTimeout(60_000);

/*
 * The contract with the Python batch worker, checked against the real one:
 * it must accept the chunk files the planner writes and its result files
 * must assemble. python3 is required by the repository's test suite anyway.
 */

const run = promisify(execFile);
const runtimeDir = join(
  dirname(require.resolve('@internal/ml-platform-model-runtime/package.json')),
  'python',
);

const MODEL = `
class Model:
    def predict(self, rows):
        # arithmetic on age fails unless the worker got a number
        return [{"churn_probability": round(row["age"] / 100.0, 4),
                 "plan": row["plan"].upper()} for row in rows]
`;
const SCHEMA = {
  inputs: [
    { name: 'age', type: 'double' },
    { name: 'plan', type: 'string' },
  ],
  outputs: [{ name: 'churn_probability', type: 'double' }],
};

let dir: string;
let cleanup: () => Promise<void>;
let modelDir: string;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  modelDir = join(dir, 'model');
  await fs.mkdir(modelDir);
  await fs.writeFile(join(modelDir, 'model.py'), MODEL);
  await fs.writeFile(join(modelDir, 'schema.json'), JSON.stringify(SCHEMA));
});
afterEach(() => cleanup());

async function runWorker(chunk: ChunkDescriptor): Promise<ChunkResult> {
  const output = join(dir, 'results', `result-${chunk.seq}.jsonl`);
  await fs.mkdir(dirname(output), { recursive: true });
  await run(
    'python3',
    [
      '-m',
      'mlp_runtime.batch',
      '--model-dir',
      modelDir,
      '--entrypoint',
      'model:Model',
      '--schema',
      join(modelDir, 'schema.json'),
      '--input',
      chunk.path,
      '--output',
      output,
      ...(chunk.range
        ? [
            '--range',
            JSON.stringify({
              offset: chunk.range.offset,
              length: chunk.range.length,
              header: chunk.range.header,
              first_row_id: chunk.rowStart,
              first_line: chunk.range.firstLine,
            }),
          ]
        : []),
    ],
    { env: { ...process.env, PYTHONPATH: runtimeDir } },
  );
  // a byte range's input is the whole file: no input columns to copy
  return {
    seq: chunk.seq,
    path: output,
    inputPath: chunk.range ? undefined : chunk.path,
  };
}

async function runAll(source: RowSource, format?: 'csv' | 'jsonl') {
  const results: ChunkResult[] = [];
  for await (const chunk of planChunks({
    source,
    chunkSize: 3,
    dir: join(dir, 'chunks'),
    format,
  })) {
    results.push(await runWorker(chunk));
  }
  return results;
}

async function assembledJsonl(results: ChunkResult[]) {
  const { dest } = await assemble({
    chunkResults: results,
    dest: join(dir, 'out.jsonl'),
    format: 'jsonl',
  });
  return readJsonl(dest);
}

describe('planner and sinks with the Python batch worker', () => {
  it('runs a CSV file through byte ranges, coerced by the schema', async () => {
    const input = join(dir, 'customers.csv');
    await fs.writeFile(
      input,
      'customer_id,age,plan\r\nc1,42,gold\r\nc2,17.5,"basic,\r\nlegacy"\r\n\r\nc3,90,silver\r\nc4,33,gold',
    );
    const results = await runAll(fileSource(input));
    expect(results).toHaveLength(2);
    expect(await assembledJsonl(results)).toEqual([
      { row_id: 0, churn_probability: 0.42, plan: 'GOLD' },
      { row_id: 1, churn_probability: 0.175, plan: 'BASIC,\r\nLEGACY' },
      { row_id: 2, churn_probability: 0.9, plan: 'SILVER' },
      { row_id: 3, churn_probability: 0.33, plan: 'GOLD' },
    ]);
  });

  it('runs streamed CSV input through CSV chunk files, copying input columns', async () => {
    const text =
      'customer_id,age,plan\nc1,42,gold\nc2,17.5,"basic, legacy"\nc3,90,silver\nc4,33,gold\n';
    const results = await runAll(
      streamSource({
        name: 'customers.csv',
        open: () => Readable.from([text]),
      }),
    );
    expect(results).toHaveLength(2);
    const { dest } = await assemble({
      chunkResults: results,
      dest: join(dir, 'out.parquet'),
      format: 'parquet',
      inputColumns: ['customer_id'],
    });
    expect((await collect(fileSource(dest))).map(r => r.values)).toEqual([
      { row_id: 0, customer_id: 'c1', churn_probability: 0.42, plan: 'GOLD' },
      {
        row_id: 1,
        customer_id: 'c2',
        churn_probability: 0.175,
        plan: 'BASIC, LEGACY',
      },
      { row_id: 2, customer_id: 'c3', churn_probability: 0.9, plan: 'SILVER' },
      { row_id: 3, customer_id: 'c4', churn_probability: 0.33, plan: 'GOLD' },
    ]);
  });

  it('runs typed (Parquet) input through JSON lines chunks', async () => {
    const input = join(dir, 'customers.parquet');
    const writer = await ParquetRowWriter.create(input, [
      { name: 'age', type: 'DOUBLE' },
      { name: 'plan', type: 'STRING' },
    ]);
    for (const [age, plan] of [
      [20, 'a'],
      [30, 'b'],
      [40, 'c'],
      [50, 'd'],
    ] as const) {
      await writer.write([age, plan]);
    }
    await writer.close();
    const results = await runAll(fileSource(input));
    expect(await assembledJsonl(results)).toEqual([
      { row_id: 0, churn_probability: 0.2, plan: 'A' },
      { row_id: 1, churn_probability: 0.3, plan: 'B' },
      { row_id: 2, churn_probability: 0.4, plan: 'C' },
      { row_id: 3, churn_probability: 0.5, plan: 'D' },
    ]);
  });

  it('shows why CSV input is not written as JSON lines chunks', async () => {
    const input = join(dir, 'customers.csv');
    await fs.writeFile(input, 'age,plan\n42,gold\n');
    // the worker checks JSON values strictly: the string "42" is not a double
    await expect(runAll(fileSource(input), 'jsonl')).rejects.toThrow(
      /bad input: .*age/,
    );
  });
});
