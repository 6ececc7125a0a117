import { Knex } from 'knex';
import { SqliteConnection, betterSqliteClient } from './sqlite';

/** Inserts rows in one transaction; whether each row was inserted. */
type InsertAll = (rows: object[]) => boolean[];

/** Prepared inserts per connection and statement text. */
const prepared = new WeakMap<object, Map<string, InsertAll>>();

/** As knex binds values for better-sqlite3, which refuses booleans. */
function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  return value;
}

export interface InsertRowsOptions<Row> {
  /** Every row has these columns (missing ones are inserted as null). */
  columns: ReadonlyArray<keyof Row & string>;
  /** Rows per statement where rows go as multi-row inserts (not SQLite). */
  chunk: number;
  /**
   * A row that conflicts with a stored one on these unique columns is left
   * out (`on conflict do nothing`), and reported as not inserted; `key` is
   * the column that tells the inserted rows apart on other databases.
   */
  ignoreConflicts?: {
    columns: ReadonlyArray<keyof Row & string>;
    key: keyof Row & string;
  };
}

/**
 * Inserts rows of the same columns in one transaction: the write path of
 * the stores fed on every call (model logs, subscribed events), and tells
 * which rows were inserted (all, unless `ignoreConflicts`). On SQLite
 * one prepared statement runs per row, reused across writes; knex would
 * build, and SQLite compile, a statement with rows × columns placeholders
 * for every chunk, which costs more than the inserts themselves. Other
 * databases get knex's multi-row inserts in chunks of `chunk` rows.
 */
export async function insertRows<Row extends object>(
  db: Knex,
  table: string,
  rows: Row[],
  options: InsertRowsOptions<Row>,
): Promise<boolean[]> {
  if (rows.length === 0) return [];
  const { columns, chunk, ignoreConflicts } = options;
  const client = betterSqliteClient(db);
  if (!client || db.isTransaction) {
    const key = ignoreConflicts?.key;
    const inserted = new Set<unknown>();
    await db.transaction(async tx => {
      for (let i = 0; i < rows.length; i += chunk) {
        const insert = tx(table).insert(rows.slice(i, i + chunk));
        if (!key) {
          await insert;
          continue;
        }
        const returned: Record<string, unknown>[] = await insert
          .onConflict([...ignoreConflicts!.columns])
          .ignore()
          .returning(key);
        for (const r of returned) inserted.add(r[key]);
      }
    });
    return key ? rows.map(r => inserted.has(r[key])) : rows.map(() => true);
  }
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const conflict = ignoreConflicts
    ? ` on conflict (${ignoreConflicts.columns
        .map(quote)
        .join(', ')}) do nothing`
    : '';
  const sql = `insert into ${quote(table)} (${columns
    .map(quote)
    .join(', ')}) values (${columns.map(() => '?').join(', ')})${conflict}`;
  const connection = (await client.acquireConnection()) as SqliteConnection;
  try {
    let statements = prepared.get(connection);
    if (!statements) {
      statements = new Map();
      prepared.set(connection, statements);
    }
    let insertAll = statements.get(sql);
    if (!insertAll) {
      insertAll = prepareInsert(connection, sql, columns);
      statements.set(sql, insertAll);
    }
    return insertAll(rows);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** One prepared statement run per row, inside a transaction, both reused. */
function prepareInsert(
  connection: SqliteConnection,
  sql: string,
  columns: ReadonlyArray<string>,
): InsertAll {
  const statement = connection.prepare(sql);
  const values = new Array<unknown>(columns.length);
  return connection.transaction((rows: object[]) => {
    const inserted = new Array<boolean>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const record = rows[r] as Record<string, unknown>;
      for (let c = 0; c < columns.length; c++) {
        values[c] = sqliteValue(record[columns[c]]);
      }
      inserted[r] = statement.run(...values).changes > 0;
    }
    return inserted;
  });
}
