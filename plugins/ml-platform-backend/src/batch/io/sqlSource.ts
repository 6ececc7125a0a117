import { InputError } from '@backstage/errors';
import { Knex } from 'knex';
import { ChunkFormat, RowSource, SourceRow } from './types';
import { bigintToPlain, toPlainRecord, toPlainValue } from './values';

export interface SqlSourceOptions {
  knex: Knex;
  /** A single SELECT (a trailing semicolon is fine). */
  query: string;
  /** Rows fetched per round trip; default 1000. */
  batchSize?: number;
  /** For error messages; default `SQL query`. */
  description?: string;
}

interface KnexClientInternals {
  dialect?: string;
  driverName?: string;
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

interface PgField {
  name: string;
  dataTypeID: number;
}

interface PgResult {
  rows: Record<string, unknown>[];
  fields: PgField[];
}

interface BetterSqliteStatement {
  reader: boolean;
  readonly: boolean;
  columns(): { name: string }[];
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_DATE = 1082;

function queryError(
  description: string,
  error: unknown,
  sentSql?: string,
): InputError {
  let message = (error as Error).message ?? String(error);
  // knex prefixes the SQL it sent; the database's reason is what helps
  if (sentSql && message.startsWith(`${sentSql} - `)) {
    message = message.slice(sentSql.length + 3);
  }
  // no `cause`: InputError would append its message a second time
  return new InputError(`${description} failed: ${message}`);
}

function checkUniqueNames(names: string[], description: string): string[] {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      // the driver keeps only the last of same-named columns in a row object
      throw new InputError(
        `${description} returns the column '${name}' more than once; give each column a distinct alias`,
      );
    }
    seen.add(name);
  }
  return names;
}

/** node-pg leaves int8 and numeric as strings and dates as local-midnight Dates. */
function pgRowConverter(fields: PgField[]) {
  const converters = fields.map(field => {
    switch (field.dataTypeID) {
      case PG_INT8:
        return (v: unknown) =>
          typeof v === 'string' ? bigintToPlain(BigInt(v)) : toPlainValue(v);
      case PG_NUMERIC:
        return (v: unknown) => {
          if (typeof v !== 'string') return toPlainValue(v);
          const n = Number(v);
          return Number.isFinite(n) ? n : v;
        };
      case PG_DATE:
        return (v: unknown) =>
          v instanceof Date
            ? `${v.getFullYear()}-${String(v.getMonth() + 1).padStart(
                2,
                '0',
              )}-${String(v.getDate()).padStart(2, '0')}`
            : toPlainValue(v);
      default:
        return toPlainValue;
    }
  });
  return (row: Record<string, unknown>) => {
    const values: Record<string, unknown> = {};
    fields.forEach((field, i) => {
      values[field.name] = converters[i](row[field.name]);
    });
    return values;
  };
}

/**
 * Rows of a SQL query, streamed. knex's own `.stream()` is not used for the
 * two databases the platform supports: on PostgreSQL it needs the
 * `pg-query-stream` package (not a dependency), and on SQLite it runs
 * `.all()` and so holds the whole result in memory. Instead PostgreSQL reads
 * through a server-side cursor in a read-only transaction, and SQLite pages
 * with LIMIT/OFFSET so the single pooled connection is free between pages
 * (the output sink may be writing to the same database meanwhile). Other
 * dialects use knex's `.stream()`.
 *
 * Re-planning must see the same rows in the same order: give the query an
 * ORDER BY on a unique key.
 */
class SqlSource implements RowSource {
  readonly description: string;
  private readonly sql: string;
  private readonly batchSize: number;
  private readonly client: KnexClientInternals;

  constructor(private readonly options: SqlSourceOptions) {
    this.description = options.description ?? 'SQL query';
    this.sql = options.query.trim().replace(/(\s*;)+$/, '');
    if (this.sql === '') {
      throw new InputError(`${this.description} is empty`);
    }
    this.batchSize = options.batchSize ?? 1000;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) {
      throw new InputError(
        `batchSize must be a positive integer, got ${options.batchSize}`,
      );
    }
    this.client = options.knex.client as KnexClientInternals;
  }

  [Symbol.asyncIterator](): AsyncIterator<SourceRow> {
    return this.rows()[Symbol.asyncIterator]();
  }

  async chunkFormat(): Promise<ChunkFormat> {
    return 'jsonl';
  }

  async close(): Promise<void> {}

  rows(): AsyncGenerator<SourceRow> {
    if (this.client.dialect === 'postgresql') return this.postgresRows();
    if (this.client.dialect === 'sqlite3') return this.sqliteRows();
    return this.streamedRows();
  }

  async columns(): Promise<string[]> {
    const { knex } = this.options;
    if (this.client.dialect === 'postgresql') {
      const trx = await knex.transaction({ readOnly: true });
      const sql = `SELECT * FROM (${this.sql}) AS mlp_input LIMIT 0`;
      try {
        const result: PgResult = await trx.raw(sql);
        return checkUniqueNames(
          result.fields.map(f => f.name),
          this.description,
        );
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw queryError(this.description, error, sql);
      } finally {
        await trx.rollback();
      }
    }
    if (this.client.driverName === 'better-sqlite3') {
      const statement = await this.prepareSqlite();
      return statement.columns().map(c => c.name);
    }
    for await (const row of this.rows()) {
      return Object.keys(row.values);
    }
    return [];
  }

  private async *postgresRows(): AsyncGenerator<SourceRow> {
    // READ ONLY: an input query must not change data, even by mistake
    const trx = await this.options.knex.transaction({ readOnly: true });
    try {
      const declare = `DECLARE mlp_input NO SCROLL CURSOR FOR ${this.sql}`;
      try {
        await trx.raw(declare);
      } catch (error) {
        throw queryError(this.description, error, declare);
      }
      let index = 0;
      for (;;) {
        let result: PgResult;
        const fetch = `FETCH FORWARD ${this.batchSize} FROM mlp_input`;
        try {
          result = await trx.raw(fetch);
        } catch (error) {
          throw queryError(this.description, error, fetch);
        }
        checkUniqueNames(
          result.fields.map(f => f.name),
          this.description,
        );
        const convert = pgRowConverter(result.fields);
        for (const row of result.rows) {
          yield { index, values: convert(row) };
          index += 1;
        }
        if (result.rows.length < this.batchSize) break;
      }
    } finally {
      // closes the cursor; nothing was written
      await trx.rollback();
    }
  }

  /** Compiles the query on a pooled connection to check it reads only. */
  private async prepareSqlite(): Promise<BetterSqliteStatement> {
    const connection = (await this.client.acquireConnection()) as {
      prepare(sql: string): BetterSqliteStatement;
    };
    try {
      let statement: BetterSqliteStatement;
      try {
        statement = connection.prepare(this.sql);
      } catch (error) {
        throw queryError(this.description, error);
      }
      if (!statement.reader || !statement.readonly) {
        throw new InputError(
          `${this.description} must be a read-only query that returns rows (a SELECT)`,
        );
      }
      checkUniqueNames(
        statement.columns().map(c => c.name),
        this.description,
      );
      return statement;
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

  private async *sqliteRows(): AsyncGenerator<SourceRow> {
    if (this.client.driverName === 'better-sqlite3') {
      await this.prepareSqlite();
    }
    let index = 0;
    for (;;) {
      let rows: Record<string, unknown>[];
      const page = `SELECT * FROM (${this.sql}) LIMIT ${this.batchSize} OFFSET ${index}`;
      try {
        rows = await this.options.knex.raw(page);
      } catch (error) {
        throw queryError(this.description, error, page);
      }
      for (const row of rows) {
        yield { index, values: toPlainRecord(row) };
        index += 1;
      }
      if (rows.length < this.batchSize) break;
    }
  }

  private async *streamedRows(): AsyncGenerator<SourceRow> {
    const stream = this.options.knex.raw(this.sql).stream();
    let index = 0;
    try {
      for await (const row of stream) {
        yield { index, values: toPlainRecord(row as Record<string, unknown>) };
        index += 1;
      }
    } catch (error) {
      throw queryError(this.description, error);
    } finally {
      stream.destroy();
    }
  }
}

/** Rows of a SQL query on a knex connection, streamed (see SqlSource). */
export function sqlSource(options: SqlSourceOptions): RowSource {
  return new SqlSource(options);
}
