import { InputError } from '@backstage/errors';
import {
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from 'hyparquet';
import { asyncBufferFromFile } from 'hyparquet';
import fs from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileResultSink, assemble } from './fileSink';
import { ParquetRowWriter } from './parquet';
import { planChunks } from './planner';
import { fileSource, streamSource } from './sources';
import { ChunkResult } from './types';
import { collect, makeTempDir, readJsonl, writeResults } from './testUtils';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

/** Two chunks of dict predictions, a field missing in one row. */
async function dictResults(): Promise<ChunkResult[]> {
  return [
    {
      seq: 1,
      path: await writeResults(join(dir, 'r1.jsonl'), [
        [2, { churn_probability: 0.25, label: 'stay', flags: ['x'] }],
      ]),
    },
    {
      seq: 0,
      path: await writeResults(join(dir, 'r0.jsonl'), [
        [0, { churn_probability: 0.9, label: 'leave', flags: null }],
        [1, { churn_probability: 1, label: null }],
      ]),
    },
  ];
}

async function readParquet(path: string) {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const rows = await parquetReadObjects({ file, metadata });
  const schema = parquetSchema(metadata).children.map(c => ({
    name: c.element.name,
    type: c.element.type,
    converted: c.element.converted_type,
  }));
  return { rows, schema, metadata };
}

describe('assemble', () => {
  it('writes JSON lines in seq order with prediction fields as columns', async () => {
    const summary = await assemble({
      chunkResults: await dictResults(),
      dest: join(dir, 'out', 'predictions.jsonl'),
      format: 'jsonl',
    });
    expect(summary).toEqual({
      dest: join(dir, 'out', 'predictions.jsonl'),
      format: 'jsonl',
      rows: 3,
      columns: ['row_id', 'churn_probability', 'label', 'flags'],
    });
    expect(await readJsonl(summary.dest)).toEqual([
      { row_id: 0, churn_probability: 0.9, label: 'leave', flags: null },
      { row_id: 1, churn_probability: 1, label: null },
      { row_id: 2, churn_probability: 0.25, label: 'stay', flags: ['x'] },
    ]);
    // no temporary file is left next to the output
    expect(await fs.readdir(join(dir, 'out'))).toEqual(['predictions.jsonl']);
  });

  it('writes CSV with a header of every field and empty cells for nulls', async () => {
    const { dest } = await assemble({
      chunkResults: await dictResults(),
      dest: join(dir, 'out.csv'),
      format: 'csv',
    });
    expect(await fs.readFile(dest, 'utf8')).toBe(
      [
        'row_id,churn_probability,label,flags',
        '0,0.9,leave,',
        '1,1,,',
        '2,0.25,stay,"[""x""]"',
        '',
      ].join('\n'),
    );
  });

  it('puts scalar predictions in a prediction column', async () => {
    const results = [
      {
        seq: 0,
        path: await writeResults(join(dir, 'r.jsonl'), [
          [0, 1],
          [1, 0],
          [2, 1],
        ]),
      },
    ];
    const { dest, columns } = await assemble({
      chunkResults: results,
      dest: join(dir, 'out.csv'),
      format: 'csv',
    });
    expect(columns).toEqual(['row_id', 'prediction']);
    expect(await fs.readFile(dest, 'utf8')).toBe(
      'row_id,prediction\n0,1\n1,0\n2,1\n',
    );
  });

  it('writes Parquet with types inferred from all chunks', async () => {
    const { dest, rows } = await assemble({
      chunkResults: await dictResults(),
      dest: join(dir, 'out.parquet'),
      format: 'parquet',
      rowGroupSize: 2,
    });
    expect(rows).toBe(3);
    const read = await readParquet(dest);
    expect(read.metadata.row_groups).toHaveLength(2);
    expect(read.schema).toEqual([
      { name: 'row_id', type: 'INT64', converted: undefined },
      // 0.9 and 1 merge into a double column
      { name: 'churn_probability', type: 'DOUBLE', converted: undefined },
      { name: 'label', type: 'BYTE_ARRAY', converted: 'UTF8' },
      { name: 'flags', type: 'BYTE_ARRAY', converted: 'JSON' },
    ]);
    expect(read.rows).toEqual([
      { row_id: 0n, churn_probability: 0.9, label: 'leave', flags: null },
      { row_id: 1n, churn_probability: 1, label: null, flags: null },
      { row_id: 2n, churn_probability: 0.25, label: 'stay', flags: ['x'] },
    ]);
  });

  it('copies selected input columns from the chunk inputs', async () => {
    // input columns are copied from chunk files (a streamed input's)
    const text = 'customer_id,age\nc1,30\nc2,40\nc3,50\n';
    const results: ChunkResult[] = [];
    for await (const chunk of planChunks({
      source: streamSource({
        name: 'in.csv',
        open: () => Readable.from([text]),
      }),
      chunkSize: 2,
      dir: join(dir, 'chunks'),
    })) {
      const predictions: Array<[number, unknown]> = [];
      for (let id = chunk.rowStart; id < chunk.rowEnd; id++) {
        predictions.push([id, { score: id / 10 }]);
      }
      results.push({
        seq: chunk.seq,
        path: await writeResults(join(dir, `r${chunk.seq}.jsonl`), predictions),
        inputPath: chunk.path,
      });
    }
    const { dest } = await assemble({
      chunkResults: results,
      dest: join(dir, 'out.jsonl'),
      format: 'jsonl',
      inputColumns: ['customer_id'],
    });
    expect(await readJsonl(dest)).toEqual([
      { row_id: 0, customer_id: 'c1', score: 0 },
      { row_id: 1, customer_id: 'c2', score: 0.1 },
      { row_id: 2, customer_id: 'c3', score: 0.2 },
    ]);
    await expect(
      assemble({
        chunkResults: results,
        dest: join(dir, 'bad.jsonl'),
        format: 'jsonl',
        inputColumns: ['nope'],
      }),
    ).rejects.toThrow("input column 'nope' is not in the input");
    // a result that does not line up with its input is caught
    await writeResults(results[1].path, [[3, { score: 1 }]]);
    await expect(
      assemble({
        chunkResults: results,
        dest: join(dir, 'bad.jsonl'),
        format: 'jsonl',
        inputColumns: ['customer_id'],
      }),
    ).rejects.toThrow('chunk 1: result row_id 3 does not match input row 2');
    // and so is one that lost rows
    await writeResults(results[1].path, []);
    await expect(
      assemble({
        chunkResults: results,
        dest: join(dir, 'bad.jsonl'),
        format: 'jsonl',
        inputColumns: ['customer_id'],
      }),
    ).rejects.toThrow('chunk 1: result file');
    await expect(fs.access(join(dir, 'bad.jsonl'))).rejects.toThrow();
  });

  it('round-trips Parquet in and out through the planner', async () => {
    const input = join(dir, 'in.parquet');
    const writer = await ParquetRowWriter.create(
      input,
      [
        { name: 'id', type: 'INT64', nullable: false },
        { name: 'amount', type: 'DOUBLE' },
        { name: 'plan', type: 'STRING' },
        { name: 'active', type: 'BOOLEAN' },
      ],
      { rowGroupSize: 4 },
    );
    for (let i = 0; i < 10; i++) {
      await writer.write([
        i + 100,
        i * 1.5,
        i % 3 ? 'gold' : null,
        i % 2 === 0,
      ]);
    }
    await writer.close();

    const source = fileSource(input);
    const inputRows = await collect(source);
    expect(inputRows[3].values).toEqual({
      id: 103,
      amount: 4.5,
      plan: null,
      active: false,
    });
    expect(inputRows[4].values).toMatchObject({ plan: 'gold', active: true });
    const results: ChunkResult[] = [];
    for await (const chunk of planChunks({
      source,
      chunkSize: 3,
      dir: join(dir, 'chunks'),
    })) {
      // a stand-in for the worker: echo the chunk's rows as predictions
      const rows = await readJsonl(chunk.path);
      results.push({
        seq: chunk.seq,
        path: await writeResults(
          join(dir, `r${chunk.seq}.jsonl`),
          rows.map(({ __row_id, ...values }) => [__row_id, values]),
        ),
      });
    }
    expect(results).toHaveLength(4);
    const { dest } = await assemble({
      chunkResults: results,
      dest: join(dir, 'out.parquet'),
      format: 'parquet',
    });
    const output = await collect(fileSource(dest));
    expect(output.map(r => r.values)).toEqual(
      inputRows.map(r => ({ row_id: r.index, ...r.values })),
    );
  });

  it('rejects malformed and out-of-order result files', async () => {
    const bad = join(dir, 'bad.jsonl');
    await fs.writeFile(bad, '{"row_id": 0, "prediction": 1}\n{"row_id": 1}\n');
    await expect(
      assemble({
        chunkResults: [{ seq: 0, path: bad }],
        dest: join(dir, 'o.csv'),
        format: 'csv',
      }),
    ).rejects.toThrow(`result file ${bad}: line 2: expected {"row_id"`);

    const a = await writeResults(join(dir, 'a.jsonl'), [[5, 1]]);
    const b = await writeResults(join(dir, 'b.jsonl'), [[3, 1]]);
    await expect(
      assemble({
        chunkResults: [
          { seq: 0, path: a },
          { seq: 1, path: b },
        ],
        dest: join(dir, 'o.jsonl'),
        format: 'jsonl',
      }),
    ).rejects.toThrow('row_id 3 comes after 5');

    const clash = await writeResults(join(dir, 'c.jsonl'), [
      [0, { row_id: 7 }],
    ]);
    await expect(
      assemble({
        chunkResults: [{ seq: 0, path: clash }],
        dest: join(dir, 'o.parquet'),
        format: 'parquet',
      }),
    ).rejects.toThrow(InputError);
    await expect(
      assemble({
        chunkResults: [{ seq: 0, path: join(dir, 'missing.jsonl') }],
        dest: join(dir, 'o.jsonl'),
        format: 'jsonl',
      }),
    ).rejects.toThrow('does not exist');
    await expect(
      assemble({
        chunkResults: [],
        dest: join(dir, 'o.xlsx'),
        format: 'xlsx' as any,
      }),
    ).rejects.toThrow("unknown output format 'xlsx'");
    // failed assemblies leave nothing behind
    expect((await fs.readdir(dir)).filter(n => n.startsWith('o.'))).toEqual([]);
  });
});

describe('FileResultSink', () => {
  it('checks each chunk as it arrives and assembles at the end', async () => {
    const sink = new FileResultSink({
      dest: join(dir, 'out.jsonl'),
      format: 'jsonl',
    });
    const results = await dictResults();
    expect(await sink.writeChunk(results[1].path)).toEqual({ rows: 2 });
    const broken = join(dir, 'broken.jsonl');
    await fs.writeFile(broken, '{"row_id": 0, "prediction": 1}\n{"row_id"');
    await expect(sink.writeChunk(broken)).rejects.toThrow(
      'line 2: invalid JSON',
    );
    expect(await sink.finish(results)).toMatchObject({ rows: 3 });
    expect(
      (await readJsonl(join(dir, 'out.jsonl'))).map(r => r.row_id),
    ).toEqual([0, 1, 2]);
  });
});
