import { ConflictError, InputError } from '@backstage/errors';
import fs from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkDescriptor, RowSource, SourceRow } from './types';
import { planChunks } from './planner';
import { fileSource, streamSource } from './sources';
import { makeTempDir, readJsonl } from './testUtils';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

/** An in-memory source of `n` typed rows that counts its passes. */
function memorySource(n: number, extra: (i: number) => object = () => ({})) {
  let passes = 0;
  const source: RowSource & { passes: () => number } = {
    description: 'memory input',
    async *rows() {
      passes += 1;
      for (let i = 0; i < n; i++) {
        yield { index: i, values: { x: i, label: `r${i}`, ...extra(i) } };
      }
    },
    [Symbol.asyncIterator]() {
      return this.rows()[Symbol.asyncIterator]();
    },
    async columns() {
      return ['x', 'label'];
    },
    async chunkFormat() {
      return 'jsonl';
    },
    async close() {},
    passes: () => passes,
  };
  return source;
}

async function plan(
  source: RowSource,
  chunkSize: number,
  chunkDir = join(dir, 'chunks'),
  format?: 'csv' | 'jsonl',
) {
  const chunks: ChunkDescriptor[] = [];
  const generator = planChunks({ source, chunkSize, dir: chunkDir, format });
  for (;;) {
    const next = await generator.next();
    if (next.done) return { chunks, summary: next.value };
    chunks.push(next.value);
  }
}

async function snapshot(chunkDir: string) {
  const files: Record<string, string> = {};
  for (const name of (await fs.readdir(chunkDir)).sort()) {
    files[name] = await fs.readFile(join(chunkDir, name), 'utf8');
  }
  return files;
}

describe('planChunks', () => {
  it('splits 10 rows by 3 into 0-3, 3-6, 6-9, 9-10', async () => {
    const { chunks, summary } = await plan(memorySource(10), 3);
    expect(
      chunks.map(({ seq, rowStart, rowEnd }) => [seq, rowStart, rowEnd]),
    ).toEqual([
      [0, 0, 3],
      [1, 3, 6],
      [2, 6, 9],
      [3, 9, 10],
    ]);
    expect(summary).toEqual({ chunks: 4, rows: 10, format: 'jsonl' });
    expect(chunks.map(c => c.path)).toEqual(
      [0, 1, 2, 3].map(i => join(dir, 'chunks', `chunk-00000${i}.jsonl`)),
    );
    expect(await readJsonl(chunks[1].path)).toEqual([
      { __row_id: 3, x: 3, label: 'r3' },
      { __row_id: 4, x: 4, label: 'r4' },
      { __row_id: 5, x: 5, label: 'r5' },
    ]);
    expect(await readJsonl(chunks[3].path)).toEqual([
      { __row_id: 9, x: 9, label: 'r9' },
    ]);
    // the dispatcher relies on the id column being first
    const firstLine = (await fs.readFile(chunks[0].path, 'utf8')).split(
      '\n',
    )[0];
    expect(firstLine).toBe('{"__row_id":0,"x":0,"label":"r0"}');
  });

  it('handles exact multiples, a single chunk and an empty input', async () => {
    expect(
      (await plan(memorySource(6), 3, join(dir, 'a'))).chunks.map(
        c => c.rowEnd,
      ),
    ).toEqual([3, 6]);
    expect(
      (await plan(memorySource(2), 100, join(dir, 'b'))).chunks,
    ).toMatchObject([{ seq: 0, rowStart: 0, rowEnd: 2 }]);
    const empty = await plan(memorySource(0), 3, join(dir, 'c'));
    expect(empty.chunks).toEqual([]);
    expect(empty.summary.rows).toBe(0);
  });

  it('yields a chunk before reading the rest of the input', async () => {
    let read = 0;
    const source = memorySource(0);
    source.rows = async function* rows(): AsyncGenerator<SourceRow> {
      for (let i = 0; i < 1000; i++) {
        read = i + 1;
        yield { index: i, values: { x: i } };
      }
    };
    const generator = planChunks({ source, chunkSize: 10, dir });
    const first = await generator.next();
    expect(first.value).toMatchObject({ seq: 0, rowEnd: 10 });
    expect(read).toBeLessThanOrEqual(11);
    // the file is complete when the descriptor is yielded
    expect(await readJsonl((first.value as ChunkDescriptor).path)).toHaveLength(
      10,
    );
    await generator.return(undefined as any);
    // stopping early leaves no temporary file
    expect((await fs.readdir(dir)).filter(n => n.includes('.tmp-'))).toEqual(
      [],
    );
  });

  it('writes CSV chunks for streamed CSV input so the worker coerces the strings', async () => {
    const text = 'age,plan,note\n42,gold,"a, b"\n7,,x\n1,silver,y\n';
    const { chunks } = await plan(
      streamSource({ name: 'in.csv', open: () => Readable.from([text]) }),
      2,
    );
    expect(chunks.map(c => c.format)).toEqual(['csv', 'csv']);
    expect(chunks[0].path).toMatch(/chunk-000000\.csv$/);
    expect(chunks[0].range).toBeUndefined();
    expect(await fs.readFile(chunks[0].path, 'utf8')).toBe(
      '__row_id,age,plan,note\n0,42,gold,"a, b"\n1,7,,x\n',
    );
    expect(await fs.readFile(chunks[1].path, 'utf8')).toBe(
      '__row_id,age,plan,note\n2,1,silver,y\n',
    );
  });

  it('hands out byte ranges of a local CSV file instead of copying it', async () => {
    const input = join(dir, 'in.csv');
    // BOM, CRLF, a quoted line break, blank lines, no final line break
    const text = '\ufeffage,note\r\n42,"a\r\nb"\r\n\r\n7,x\r\n1,""""\n\n\n3,z';
    await fs.writeFile(input, text);
    const { chunks, summary } = await plan(fileSource(input), 2);
    expect(summary).toEqual({ chunks: 2, rows: 4, format: 'csv' });
    const bytes = Buffer.from(text);
    const slice = (c: ChunkDescriptor) =>
      bytes
        .subarray(c.range!.offset, c.range!.offset + c.range!.length)
        .toString();
    expect(chunks.map(c => [c.path, c.rowStart, c.rowEnd])).toEqual([
      [input, 0, 2],
      [input, 2, 4],
    ]);
    expect(chunks.map(c => c.range!.header)).toEqual(['age,note', 'age,note']);
    expect(chunks.map(slice)).toEqual([
      '42,"a\r\nb"\r\n\r\n7,x\r\n',
      '1,""""\n\n\n3,z',
    ]);
    expect(chunks.map(c => c.range!.firstLine)).toEqual([2, 6]);
    // nothing written but the plan
    expect(await fs.readdir(join(dir, 'chunks'))).toEqual(['plan.json']);
  });

  it('refuses to resume byte ranges of an input file that changed', async () => {
    const input = join(dir, 'in.csv');
    await fs.writeFile(input, 'a\n1\n2\n');
    await plan(fileSource(input), 1);
    await fs.appendFile(input, '3\n');
    await expect(plan(fileSource(input), 1)).rejects.toThrow(
      /in\.csv changed since the execution was planned \(6 bytes, .*now 8 bytes/,
    );
  });

  it('writes typed sources to CSV when asked, JSON-encoding nested values', async () => {
    const source = memorySource(2, i => ({ tags: i ? ['a'] : null }));
    source.columns = async () => ['x', 'label', 'tags'];
    const { chunks } = await plan(source, 5, join(dir, 'csv'), 'csv');
    expect(await fs.readFile(chunks[0].path, 'utf8')).toBe(
      '__row_id,x,label,tags\n0,0,r0,\n1,1,r1,"[""a""]"\n',
    );
  });

  it('re-plans identically and rewrites only missing chunk files', async () => {
    const chunkDir = join(dir, 'chunks');
    const first = await plan(memorySource(10), 3, chunkDir);
    const before = await snapshot(chunkDir);
    expect(first.chunks.every(c => !c.reused)).toBe(true);

    // a crash: one chunk file lost, one half-written temporary file left
    await fs.rm(first.chunks[2].path);
    await fs.writeFile(`${first.chunks[1].path}.tmp-1-dead`, '{"__row_id":3');
    const kept = await fs.stat(first.chunks[0].path);

    const second = await plan(memorySource(10), 3, chunkDir);
    expect(second.chunks.map(({ reused, ...c }) => c)).toEqual(
      first.chunks.map(({ reused, ...c }) => c),
    );
    expect(second.chunks.map(c => c.reused)).toEqual([true, true, false, true]);
    expect(await snapshot(chunkDir)).toEqual(before);
    // kept files are not rewritten
    expect((await fs.stat(first.chunks[0].path)).mtimeMs).toBe(kept.mtimeMs);
  });

  it('drops chunk files past the end when the input got shorter', async () => {
    const chunkDir = join(dir, 'chunks');
    await plan(memorySource(10), 3, chunkDir);
    const { chunks } = await plan(memorySource(5), 3, chunkDir);
    expect(chunks.map(c => c.rowEnd)).toEqual([3, 5]);
    expect(
      (await fs.readdir(chunkDir)).filter(n => n.startsWith('chunk-')).sort(),
    ).toEqual(['chunk-000000.jsonl', 'chunk-000001.jsonl']);
  });

  it('refuses to reuse a directory planned with another chunk size', async () => {
    const chunkDir = join(dir, 'chunks');
    await plan(memorySource(10), 3, chunkDir);
    await expect(plan(memorySource(10), 4, chunkDir)).rejects.toThrow(
      ConflictError,
    );
    await expect(plan(memorySource(10), 4, chunkDir)).rejects.toThrow(
      'was planned with chunkSize 3, not 4',
    );
  });

  it('rejects a bad chunk size and a clashing id column', async () => {
    await expect(plan(memorySource(3), 0)).rejects.toThrow(
      'chunkSize must be a positive integer, got 0',
    );
    await expect(plan(memorySource(3), 1.5)).rejects.toBeInstanceOf(InputError);
    await expect(
      plan(
        memorySource(3, () => ({ __row_id: 'x' })),
        2,
        join(dir, 'clash'),
      ),
    ).rejects.toThrow("has a column named '__row_id', which is reserved");
    // nothing half-written is left behind
    expect(
      (await fs.readdir(join(dir, 'clash'))).filter(n =>
        n.startsWith('chunk-'),
      ),
    ).toEqual([]);
  });

  it('passes source errors through, after the complete chunks', async () => {
    const input = join(dir, 'bad.jsonl');
    await fs.writeFile(input, '{"a": 1}\n{"a": 2}\n{"a": 3}\noops\n');
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const chunk of planChunks({
          source: fileSource(input),
          chunkSize: 2,
          dir: join(dir, 'chunks'),
        })) {
          seen.push(chunk.seq);
        }
      })(),
    ).rejects.toThrow(/bad\.jsonl: line 4: invalid JSON/);
    expect(seen).toEqual([0]);
    expect((await fs.readdir(join(dir, 'chunks'))).sort()).toEqual([
      'chunk-000000.jsonl',
      'plan.json',
    ]);
  });
});
