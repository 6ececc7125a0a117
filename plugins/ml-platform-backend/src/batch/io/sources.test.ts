import { InputError } from '@backstage/errors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import fs from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { checkColumns } from './checkColumns';
import { openParquet } from './parquet';
import { fileSource, streamSource } from './sources';
import { collect, makeTempDir } from './testUtils';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

async function write(name: string, content: string | Uint8Array) {
  const path = join(dir, name);
  await fs.writeFile(path, content);
  return path;
}

/** A Parquet fixture with several row groups and the awkward types. */
function parquetFixture(): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: [1n, 2n, 3n, 2n ** 60n, 5n], type: 'INT64' },
      { name: 'score', data: [0.5, 1.25, null, -3, 4], type: 'DOUBLE' },
      { name: 'plan', data: ['a', 'b', 'c', null, 'é'], type: 'STRING' },
      {
        name: 'active',
        data: [true, false, true, false, true],
        type: 'BOOLEAN',
      },
      {
        name: 'seen',
        data: [
          new Date('2024-01-02T03:04:05.000Z'),
          null,
          new Date('2023-12-31T00:00:00.000Z'),
          new Date(0),
          new Date('2024-06-01T12:00:00.000Z'),
        ],
        type: 'TIMESTAMP',
      },
    ],
    rowGroupSize: 2,
  });
  return new Uint8Array(buffer);
}

describe('CSV', () => {
  it('reads rows with their index and keeps values as strings', async () => {
    const path = await write(
      'in.csv',
      '\uFEFFage,plan,note\n42,gold,"a, b"\n\n7,,"multi\nline"\n',
    );
    const source = fileSource(path);
    expect(await collect(source)).toEqual([
      { index: 0, values: { age: '42', plan: 'gold', note: 'a, b' } },
      { index: 1, values: { age: '7', plan: '', note: 'multi\nline' } },
    ]);
    expect(await source.columns()).toEqual(['age', 'plan', 'note']);
    expect(await source.chunkFormat()).toBe('csv');
  });

  it('can be iterated again from the start', async () => {
    const source = fileSource(await write('in.csv', 'a\n1\n2\n'));
    expect((await collect(source)).length).toBe(2);
    expect((await collect(source.rows())).map(r => r.values.a)).toEqual([
      '1',
      '2',
    ]);
  });

  it('names the line of a record with the wrong number of fields', async () => {
    const source = fileSource(await write('bad.csv', 'a,b\n1,2\n3\n'));
    await expect(collect(source)).rejects.toThrow(
      /bad\.csv: malformed CSV at line 3: expected 2 fields as in the header, got 1$/,
    );
    await expect(collect(source)).rejects.toBeInstanceOf(InputError);
  });

  it('names the line of an unclosed quote', async () => {
    const source = fileSource(await write('q.csv', 'a,b\n1,2\n3,"x\n4,5\n'));
    await expect(collect(source)).rejects.toThrow(
      /q\.csv: malformed CSV at line 3: quoted field is never closed$/,
    );
  });

  it('rejects duplicate and empty header names', async () => {
    await expect(
      fileSource(await write('dup.csv', 'a,b,a\n1,2,3\n')).columns(),
    ).rejects.toThrow("line 1: duplicate column 'a' in the header");
    await expect(
      collect(fileSource(await write('empty.csv', 'a,,c\n1,2,3\n'))),
    ).rejects.toThrow('line 1: column 2 of the header has no name');
  });

  it('reports a missing file clearly', async () => {
    const source = fileSource(join(dir, 'nope.csv'));
    await expect(collect(source)).rejects.toThrow(/nope\.csv: no such file/);
    await expect(source.columns()).rejects.toBeInstanceOf(InputError);
  });
});

describe('JSON lines', () => {
  it('reads objects, skipping blank lines', async () => {
    const path = await write(
      'in.jsonl',
      '{"age": 42, "tags": ["x"], "plan": null}\r\n\n{"age": 7.5}\n',
    );
    const source = fileSource(path);
    expect(await collect(source)).toEqual([
      { index: 0, values: { age: 42, tags: ['x'], plan: null } },
      { index: 1, values: { age: 7.5 } },
    ]);
    expect(await source.columns()).toEqual(['age', 'tags', 'plan']);
    expect(await source.chunkFormat()).toBe('jsonl');
  });

  it('names the line of invalid JSON', async () => {
    const source = fileSource(
      await write('bad.jsonl', '{"a": 1}\n\n{"a": 2,}\n{"a": 3}\n'),
    );
    await expect(collect(source)).rejects.toThrow(
      /bad\.jsonl: line 3: invalid JSON/,
    );
  });

  it('rejects lines that are not objects', async () => {
    const source = fileSource(await write('arr.jsonl', '{"a": 1}\n[1, 2]\n'));
    await expect(collect(source)).rejects.toThrow(
      'line 2: expected a JSON object, got array',
    );
  });
});

describe('Parquet', () => {
  it('reads every row group with JSON-safe values', async () => {
    const path = await write('in.parquet', parquetFixture());
    const opened = await openParquet(path, 'fixture');
    await opened.close();
    expect(opened.metadata.row_groups).toHaveLength(3);
    const source = fileSource(path);
    expect(await source.columns()).toEqual([
      'id',
      'score',
      'plan',
      'active',
      'seen',
    ]);
    const rows = await collect(source);
    expect(rows.map(r => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(rows[0].values).toEqual({
      id: 1,
      score: 0.5,
      plan: 'a',
      active: true,
      seen: '2024-01-02T03:04:05.000Z',
    });
    expect(rows[1].values.seen).toBeNull();
    expect(rows[2].values.score).toBeNull();
    // beyond 2^53 a number would lose digits
    expect(rows[3].values.id).toBe((2n ** 60n).toString());
    expect(rows[4].values.plan).toBe('é');
    expect(await source.chunkFormat()).toBe('jsonl');
  });

  it('rejects a file that is not Parquet', async () => {
    const source = fileSource(await write('fake.parquet', 'a,b\n1,2\n'));
    await expect(collect(source)).rejects.toThrow(
      /fake\.parquet is not a Parquet file/,
    );
    await expect(source.columns()).rejects.toBeInstanceOf(InputError);
  });

  it('rejects a truncated Parquet file', async () => {
    const bytes = parquetFixture();
    const truncated = new Uint8Array([
      ...bytes.subarray(0, 8),
      ...bytes.subarray(bytes.length - 12),
    ]);
    const source = fileSource(await write('cut.parquet', truncated));
    await expect(collect(source)).rejects.toThrow(/cut\.parquet/);
    await expect(collect(source)).rejects.toBeInstanceOf(InputError);
  });
});

describe('format detection', () => {
  it('sniffs the format of files without a known extension', async () => {
    const csv = fileSource(await write('a.data', 'x,y\n1,2\n'));
    expect((await collect(csv))[0].values).toEqual({ x: '1', y: '2' });
    const jsonl = fileSource(await write('b.data', '  {"x": 1}\n'));
    expect((await collect(jsonl))[0].values).toEqual({ x: 1 });
    const parquet = fileSource(await write('c.data', parquetFixture()));
    expect((await collect(parquet)).length).toBe(5);
    expect(parquet.description).toMatch(/^Parquet input/);
  });

  it('lets an explicit format win over the extension', async () => {
    const source = fileSource(await write('rows.txt', '{"x": 1}\n'), {
      format: 'jsonl',
    });
    expect(await collect(source)).toEqual([{ index: 0, values: { x: 1 } }]);
  });

  it('rejects an unknown format name', () => {
    expect(() => fileSource('x', { format: 'xlsx' as any })).toThrow(
      "unknown input format 'xlsx'",
    );
  });
});

describe('stream sources', () => {
  /** Splits the data into small pieces to exercise chunk boundaries. */
  function pieces(data: Buffer | string, size = 3) {
    const buffer = Buffer.from(data);
    let opens = 0;
    return {
      open: () => {
        opens += 1;
        const parts: Buffer[] = [];
        for (let i = 0; i < buffer.length; i += size) {
          parts.push(buffer.subarray(i, i + size));
        }
        return Readable.from(parts);
      },
      opens: () => opens,
    };
  }

  it('sniffs CSV from the first bytes and replays them', async () => {
    const data = pieces('age,plan\n1,gold\n2,silver\n');
    const source = streamSource({ open: data.open });
    expect(await collect(source)).toEqual([
      { index: 0, values: { age: '1', plan: 'gold' } },
      { index: 1, values: { age: '2', plan: 'silver' } },
    ]);
    expect(data.opens()).toBe(1);
    expect(await source.chunkFormat()).toBe('csv');
  });

  it('takes the format from a URL name', async () => {
    const source = streamSource({
      open: () => Readable.from([Buffer.from('{"a": 1}\n{"a": 2}\n')]),
      name: 'https://example.com/data/rows.jsonl?token=x',
    });
    expect((await collect(source)).map(r => r.values.a)).toEqual([1, 2]);
    expect(source.description).toBe(
      'JSON lines input https://example.com/data/rows.jsonl?token=x',
    );
  });

  it('spools a Parquet stream once and removes the copy on close', async () => {
    const data = pieces(Buffer.from(parquetFixture()), 100);
    const source = streamSource({ open: data.open, tmpDir: dir });
    expect(await source.columns()).toContain('score');
    expect((await collect(source)).length).toBe(5);
    expect((await collect(source)).length).toBe(5);
    expect(data.opens()).toBe(1);
    expect(
      (await fs.readdir(dir)).filter(n => n.startsWith('mlp-input-')),
    ).toHaveLength(1);
    await source.close();
    expect(
      (await fs.readdir(dir)).filter(n => n.startsWith('mlp-input-')),
    ).toHaveLength(0);
  });

  it('reports stream errors and malformed content', async () => {
    const failing = streamSource({
      format: 'csv',
      open: () =>
        new Readable({
          read() {
            this.destroy(new Error('connection reset'));
          },
        }),
    });
    await expect(collect(failing)).rejects.toThrow(
      new InputError('CSV input: cannot read: connection reset'),
    );

    // a download that drops after some rows
    const dropped = streamSource({
      name: 'https://example.com/big.jsonl',
      open: () => {
        let sent = false;
        return new Readable({
          read() {
            if (sent) {
              this.destroy(new Error('socket hang up'));
            } else {
              sent = true;
              this.push('{"a": 1}\n{"a": 2}\n');
            }
          },
        });
      },
    });
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const row of dropped) seen.push(row.values.a);
      })(),
    ).rejects.toThrow(
      'JSON lines input https://example.com/big.jsonl: cannot read: socket hang up',
    );
    expect(seen).toEqual([1, 2]);

    const cannotOpen = streamSource({
      name: 'https://example.com/x.csv',
      open: () => {
        throw new Error('404 Not Found');
      },
    });
    await expect(collect(cannotOpen)).rejects.toThrow(
      /^CSV input https:\/\/example\.com\/x\.csv: cannot open: 404 Not Found$/,
    );

    const bad = streamSource({
      format: 'jsonl',
      open: () => Readable.from([Buffer.from('{"a": 1}\nnot json\n')]),
    });
    await expect(collect(bad)).rejects.toThrow(/line 2: invalid JSON/);
  });

  it('stops reading the stream when the consumer stops', async () => {
    let destroyed = false;
    const source = streamSource({
      format: 'csv',
      open: () => {
        let i = 0;
        const stream = new Readable({
          read() {
            this.push(i === 0 ? 'n\n' : `${i}\n`);
            i += 1;
          },
        });
        stream.on('close', () => {
          destroyed = true;
        });
        return stream;
      },
    });
    for await (const row of source) {
      if (row.index === 10) break;
    }
    await new Promise(resolve => setImmediate(resolve));
    expect(destroyed).toBe(true);
  });
});

describe('checkColumns', () => {
  it('passes when every required column is present', async () => {
    const source = fileSource(
      await write('in.csv', 'age,plan,tenure\n1,2,3\n'),
    );
    await expect(checkColumns(source, ['plan', 'age'])).resolves.toEqual([
      'age',
      'plan',
      'tenure',
    ]);
  });

  it('names the missing columns and the ones present', async () => {
    const source = fileSource(await write('in.jsonl', '{"age": 1, "x": 2}\n'));
    const error = await checkColumns(source, ['age', 'plan', 'tenure']).catch(
      e => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `JSON lines input ${join(
        dir,
        'in.jsonl',
      )} is missing required columns 'plan', 'tenure'; its columns are 'age', 'x'`,
    );
  });

  it('reads only the header of a large CSV', async () => {
    let pulled = 0;
    const source = streamSource({
      format: 'csv',
      open: () =>
        new Readable({
          read() {
            // an endless body: columns() must not wait for the end
            this.push(pulled === 0 ? 'a,b\n' : '1,2\n'.repeat(1000));
            pulled += 1;
          },
        }),
    });
    await expect(checkColumns(source, ['c'])).rejects.toThrow(
      "is missing required column 'c'; its columns are 'a', 'b'",
    );
    expect(pulled).toBeLessThan(100);
  });
});
