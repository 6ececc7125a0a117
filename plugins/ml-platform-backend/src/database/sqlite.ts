import { Knex } from 'knex';

/** The part of a better-sqlite3 connection the stores use directly. */
export interface SqliteConnection {
  prepare(sql: string): { run(...params: unknown[]): { changes: number } };
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  pragma(source: string): unknown;
}

/** A knex client of better-sqlite3, with the parts knex leaves untyped. */
export type SqliteClient = Knex.Client & {
  connectionSettings?: { filename?: string };
  pool?: {
    on(
      event: 'createSuccess',
      listener: (id: number, connection: SqliteConnection) => void,
    ): void;
  };
};

/** `db`'s client when it is better-sqlite3; undefined for other databases. */
export function betterSqliteClient(db: Knex): SqliteClient | undefined {
  const client = db.client as SqliteClient & { driverName?: string };
  return client.driverName === 'better-sqlite3' ? client : undefined;
}
