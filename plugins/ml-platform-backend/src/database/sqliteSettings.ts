import { Knex } from 'knex';
import { SqliteConnection, betterSqliteClient } from './sqlite';

const WAL_SETTINGS = ['journal_mode = WAL', 'synchronous = NORMAL'];

/**
 * The embedded default's SQLite file in write-ahead-log mode with
 * `synchronous = NORMAL`: a commit appends to the log instead of syncing
 * the database file to disk. better-sqlite3 runs on the event loop, so a
 * sync per commit (about a millisecond here, far more on slower disks)
 * stalled every request for each batched write. A committed write still
 * survives a crash of the backend; only an OS crash or a power loss can
 * take back the last commits. Other databases, and in-memory SQLite, are
 * left as they are.
 */
export async function useSqliteWriteAheadLog(db: Knex): Promise<void> {
  const client = betterSqliteClient(db);
  if (!client) return;
  const filename = client.connectionSettings?.filename;
  if (!filename || filename === ':memory:') return;
  // `synchronous` is per connection: every new one of the pool gets it too.
  client.pool?.on('createSuccess', (_id, connection) => {
    for (const setting of WAL_SETTINGS) connection.pragma(setting);
  });
  const connection = (await client.acquireConnection()) as SqliteConnection;
  try {
    for (const setting of WAL_SETTINGS) connection.pragma(setting);
  } finally {
    await client.releaseConnection(connection);
  }
}
