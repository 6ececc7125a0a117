import { TestDatabases } from '@backstage/backend-test-utils';
import { InputError } from '@backstage/errors';
import { Knex } from 'knex';
import { join } from 'node:path';
import { checkColumns } from './checkColumns';
import { planChunks } from './planner';
import { SqlTableSink, validateTableName } from './sqlSink';
import { sqlSource } from './sqlSource';
import { collect, makeTempDir, readJsonl, writeResults } from './testUtils';

jest.setTimeout(60_000);

// PostgreSQL runs whenever BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
// is set (CI sets it); SQLite always.
const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

async function customers(knex: Knex, n: number) {
  await knex.schema.createTable('customers', table => {
    table.integer('id').primary();
    table.string('plan');
    table.double('monthly');
    table.bigInteger('visits');
    table.boolean('active');
  });
  const rows = [];
  for (let i = 1; i <= n; i++) {
    rows.push({
      id: i,
      plan: i % 2 ? 'gold' : null,
      monthly: i * 1.5,
      visits: i * 1000,
      active: i % 3 === 0,
    });
  }
  // batches keep SQLite under its bound-parameter limit
  for (let i = 0; i < rows.length; i += 100) {
    await knex('customers').insert(rows.slice(i, i + 100));
  }
}

async function columnTypes(knex: Knex, table: string) {
  const info = await knex(table).columnInfo();
  return Object.fromEntries(
    Object.entries(info).map(([name, column]) => [name, column.type]),
  );
}

describe.each(databases.eachSupportedId())('SQL source (%s)', databaseId => {
  it('streams the rows of a query in batches, as plain objects', async () => {
    const knex = await databases.init(databaseId);
    await customers(knex, 25);
    const source = sqlSource({
      knex,
      query: 'SELECT id, plan, monthly, visits FROM customers ORDER BY id;',
      batchSize: 10,
    });
    const rows = await collect(source);
    expect(rows).toHaveLength(25);
    expect(rows.map(r => r.index)).toEqual([...Array(25).keys()]);
    expect(rows[0].values).toEqual({
      id: 1,
      plan: 'gold',
      monthly: 1.5,
      // PostgreSQL returns bigint as a string; the source gives a number
      visits: 1000,
    });
    expect(rows[24].values).toEqual({
      id: 25,
      plan: 'gold',
      monthly: 37.5,
      visits: 25000,
    });
    expect(rows[1].values.plan).toBeNull();
    expect(await source.columns()).toEqual(['id', 'plan', 'monthly', 'visits']);
    expect(await source.chunkFormat()).toBe('jsonl');
  });

  it('gives the columns of an empty result and checks required ones', async () => {
    const knex = await databases.init(databaseId);
    await customers(knex, 0);
    const source = sqlSource({ knex, query: 'SELECT id, plan FROM customers' });
    expect(await collect(source)).toEqual([]);
    await expect(checkColumns(source, ['plan', 'tenure'])).rejects.toThrow(
      "SQL query is missing required column 'tenure'; its columns are 'id', 'plan'",
    );
  });

  it('plans chunks straight from the query', async () => {
    const knex = await databases.init(databaseId);
    await customers(knex, 7);
    const chunks = [];
    for await (const chunk of planChunks({
      source: sqlSource({
        knex,
        query: 'SELECT id, plan FROM customers ORDER BY id',
        batchSize: 2,
      }),
      chunkSize: 3,
      dir: join(dir, 'chunks'),
    })) {
      chunks.push(chunk);
    }
    expect(chunks.map(c => [c.rowStart, c.rowEnd])).toEqual([
      [0, 3],
      [3, 6],
      [6, 7],
    ]);
    expect(await readJsonl(chunks[2].path)).toEqual([
      { __row_id: 6, id: 7, plan: 'gold' },
    ]);
  });

  it('reports bad queries and refuses ones that write', async () => {
    const knex = await databases.init(databaseId);
    await customers(knex, 3);
    const bad = sqlSource({ knex, query: 'SELECT nope FROM customers' });
    // the database's reason, without the SQL knex sent
    await expect(collect(bad)).rejects.toThrow(
      /^SQL query failed: (no such column: nope|column "nope" does not exist)$/,
    );
    await expect(collect(bad)).rejects.toBeInstanceOf(InputError);
    await expect(bad.columns()).rejects.toBeInstanceOf(InputError);

    const write = sqlSource({ knex, query: 'DELETE FROM customers' });
    await expect(collect(write)).rejects.toBeInstanceOf(InputError);
    expect(await knex('customers').count({ n: '*' })).toEqual([
      { n: databaseId === 'POSTGRES_15' ? '3' : 3 },
    ]);

    const dup = sqlSource({
      knex,
      query: 'SELECT id, plan AS id FROM customers',
    });
    await expect(collect(dup)).rejects.toThrow(
      "returns the column 'id' more than once",
    );
    expect(() => sqlSource({ knex, query: ' ; ' })).toThrow(
      'SQL query is empty',
    );
  });

  it('lets a sink write to the same database while it is being read', async () => {
    const knex = await databases.init(databaseId);
    await customers(knex, 6);
    const sink = new SqlTableSink({ knex, table: 'scores' });
    let written = 0;
    for await (const row of sqlSource({
      knex,
      query: 'SELECT id FROM customers ORDER BY id',
      batchSize: 2,
    })) {
      // SQLite has one pooled connection: this would wait forever if the
      // source held it while suspended between rows
      const path = await writeResults(join(dir, `r${row.index}.jsonl`), [
        [row.index, row.values.id],
      ]);
      written += (await sink.writeChunk(path)).rows;
    }
    expect(written).toBe(6);
    expect(await sink.finish()).toEqual({ rows: 6 });
  });
});

describe.each(databases.eachSupportedId())('SqlTableSink (%s)', databaseId => {
  it('creates the table from the first chunk and upserts retried chunks', async () => {
    const knex = await databases.init(databaseId);
    const sink = new SqlTableSink({ knex, table: 'churn_scores' });
    const chunk0 = await writeResults(join(dir, 'r0.jsonl'), [
      [
        0,
        {
          churn_probability: 0.9,
          will_churn: true,
          segment: 'a',
          n: 3,
          extra: { k: [1] },
        },
      ],
      [
        1,
        {
          churn_probability: 0.1,
          will_churn: false,
          segment: 'b',
          n: 4,
          extra: null,
        },
      ],
    ]);
    const chunk1 = await writeResults(join(dir, 'r1.jsonl'), [
      [
        2,
        {
          churn_probability: 0.5,
          will_churn: false,
          segment: 'c',
          n: 5,
          extra: {},
        },
      ],
    ]);
    // chunk 1 finishes first
    expect(await sink.writeChunk(chunk1)).toEqual({ rows: 1 });
    expect(await sink.writeChunk(chunk0)).toEqual({ rows: 2 });
    // chunk 0 is retried with different predictions: replaced, not duplicated
    const retried = await writeResults(join(dir, 'r0-retry.jsonl'), [
      [
        0,
        {
          churn_probability: 0.8,
          will_churn: true,
          segment: 'a',
          n: 3,
          extra: null,
        },
      ],
      [
        1,
        {
          churn_probability: 0.2,
          will_churn: false,
          segment: 'b',
          n: 4,
          extra: null,
        },
      ],
    ]);
    expect(await sink.writeChunk(retried)).toEqual({ rows: 2 });
    expect(await sink.finish()).toEqual({ rows: 3 });

    const rows = await knex('churn_scores').orderBy('row_id');
    expect(
      rows.map(r => ({
        ...r,
        row_id: Number(r.row_id),
        n: Number(r.n),
        will_churn: Boolean(r.will_churn),
      })),
    ).toEqual([
      {
        row_id: 0,
        churn_probability: 0.8,
        will_churn: true,
        segment: 'a',
        n: 3,
        extra: null,
      },
      {
        row_id: 1,
        churn_probability: 0.2,
        will_churn: false,
        segment: 'b',
        n: 4,
        extra: null,
      },
      {
        row_id: 2,
        churn_probability: 0.5,
        will_churn: false,
        segment: 'c',
        n: 5,
        extra: '{}',
      },
    ]);
    expect(await columnTypes(knex, 'churn_scores')).toEqual({
      row_id: 'bigint',
      churn_probability:
        databaseId === 'POSTGRES_15' ? 'double precision' : 'float',
      will_churn: 'boolean',
      segment: 'text',
      n: 'bigint',
      extra: 'text',
    });
  });

  it('writes scalar predictions to a prediction column', async () => {
    const knex = await databases.init(databaseId);
    const sink = new SqlTableSink({ knex, table: 'labels' });
    const results: Array<[number, unknown]> = [];
    for (let i = 0; i < 2500; i++) results.push([i, i % 2 ? 'yes' : 'no']);
    expect(
      await sink.writeChunk(await writeResults(join(dir, 'r.jsonl'), results)),
    ).toEqual({ rows: 2500 });
    expect(await sink.finish()).toEqual({ rows: 2500 });
    expect(await knex('labels').where({ row_id: 1 }).first()).toMatchObject({
      prediction: 'yes',
    });
  });

  it('adds columns for new fields and widens columns that no longer fit', async () => {
    const knex = await databases.init(databaseId);
    const first = new SqlTableSink({ knex, table: 'scores' });
    await first.writeChunk(
      await writeResults(join(dir, 'a.jsonl'), [
        [0, { n: 1, flag: true, note: null }],
      ]),
    );
    // a new sink (e.g. after a backend restart) picks the table up as it is
    const second = new SqlTableSink({ knex, table: 'scores' });
    await second.writeChunk(
      await writeResults(join(dir, 'b.jsonl'), [
        [1, { n: 1.5, flag: 'maybe', note: 'late', added: 7 }],
      ]),
    );
    const rows = await knex('scores').orderBy('row_id');
    expect(
      rows.map(r => [
        Number(r.row_id),
        Number(r.n),
        String(r.flag),
        r.note,
        r.added === null ? null : Number(r.added),
      ]),
    ).toEqual([
      [0, 1, databaseId === 'POSTGRES_15' ? 'true' : '1', null, null],
      [1, 1.5, 'maybe', 'late', 7],
    ]);
    // SQLite stores any value in any column, so only PostgreSQL changes types
    expect(await columnTypes(knex, 'scores')).toMatchObject(
      databaseId === 'POSTGRES_15'
        ? { n: 'double precision', flag: 'text', added: 'bigint' }
        : { n: 'bigint', flag: 'boolean', added: 'bigint' },
    );
  });

  it('leaves nothing of a chunk whose file is broken', async () => {
    const knex = await databases.init(databaseId);
    const sink = new SqlTableSink({ knex, table: 'scores' });
    await sink.writeChunk(await writeResults(join(dir, 'ok.jsonl'), [[0, 1]]));
    const broken = join(dir, 'broken.jsonl');
    await writeResults(broken, [
      [1, 1],
      [2, 1],
    ]);
    await require('node:fs/promises').appendFile(broken, '{"row_id": 3, "pred');
    await expect(sink.writeChunk(broken)).rejects.toThrow(
      'line 3: invalid JSON',
    );
    // later chunks still go through
    await sink.writeChunk(
      await writeResults(join(dir, 'next.jsonl'), [[4, 0]]),
    );
    expect(
      (await knex('scores').select('row_id').orderBy('row_id')).map(r =>
        Number(r.row_id),
      ),
    ).toEqual([0, 4]);
  });

  it('refuses a table without row_id and prediction fields that are not identifiers', async () => {
    const knex = await databases.init(databaseId);
    await knex.schema.createTable('taken', table => table.integer('id'));
    const sink = new SqlTableSink({ knex, table: 'taken' });
    const path = await writeResults(join(dir, 'r.jsonl'), [[0, 1]]);
    await expect(sink.writeChunk(path)).rejects.toThrow(
      'table taken exists but has no row_id column',
    );
    const odd = new SqlTableSink({ knex, table: 'odd' });
    await expect(
      odd.writeChunk(
        await writeResults(join(dir, 'o.jsonl'), [[0, { 'a.b': 1 }]]),
      ),
    ).rejects.toThrow(
      `prediction field "a.b" cannot become a column of table odd`,
    );
    await expect(
      odd.writeChunk(
        await writeResults(join(dir, 'p.jsonl'), [[0, { row_id: 1 }]]),
      ),
    ).rejects.toThrow(InputError);
    expect(await knex.schema.hasTable('odd')).toBe(false);
  });
});

describe('validateTableName', () => {
  it('accepts identifiers and rejects anything else', () => {
    expect(validateTableName('churn_scores_2024')).toBe('churn_scores_2024');
    expect(validateTableName('_t')).toBe('_t');
    for (const bad of [
      '',
      '1abc',
      'a-b',
      'a.b',
      'x; DROP TABLE y',
      'a b',
      'x'.repeat(64),
    ]) {
      expect(() => validateTableName(bad)).toThrow(InputError);
    }
    expect(() => validateTableName('drop table')).toThrow(
      'invalid output table name "drop table"',
    );
  });
});
