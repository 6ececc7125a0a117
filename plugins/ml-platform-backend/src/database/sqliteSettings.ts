import { LoggerService } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { SqliteConnection, betterSqliteClient } from './sqlite';
import { WalCheckpointer } from './WalCheckpointer';

const WAL_SETTINGS = ['journal_mode = WAL', 'synchronous = NORMAL'];

/** How often the worker checkpoints the log. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The embedded default's SQLite file in write-ahead-log mode with
 * `synchronous = NORMAL`: a commit appends to the log instead of syncing
 * the database file to disk. better-sqlite3 runs on the event loop, so a
 * sync per commit (about a millisecond here, far more on slower disks)
 * stalled every request for each batched write. A committed write still
 * survives a crash of the backend; only an OS crash or a power loss can
 * take back the last commits. The log's checkpoints, which sync, run in a
 * worker thread (`WalCheckpointer`). Other databases, and in-memory
 * SQLite, are left as they are.
 */
export async function useSqliteWriteAheadLog(
  db: Knex,
  logger?: LoggerService,
): Promise<WalCheckpointer | undefined> {
  const client = betterSqliteClient(db);
  if (!client) return undefined;
  const filename = client.connectionSettings?.filename;
  if (!filename || filename === ':memory:') return undefined;
  let autocheckpoint = WalCheckpointer.BACKSTOP_PAGES;
  const connections = new Set<SqliteConnection>();
  const configure = (connection: SqliteConnection) => {
    for (const setting of WAL_SETTINGS) connection.pragma(setting);
    connection.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
  };
  // Settings are per connection: every new one of the pool gets them too.
  client.pool?.on('createSuccess', (_id, connection) => {
    configure(connection);
    connections.add(connection);
  });
  client.pool?.on('destroySuccess', (_id, connection) =>
    connections.delete(connection),
  );
  const connection = (await client.acquireConnection()) as SqliteConnection;
  try {
    configure(connection);
    connections.add(connection);
  } finally {
    await client.releaseConnection(connection);
  }
  const checkpointer = new WalCheckpointer({
    filename,
    intervalMs: CHECKPOINT_INTERVAL_MS,
    onFailure(reason) {
      // Checkpoints back where SQLite keeps them: the log stays bounded.
      autocheckpoint = WalCheckpointer.DEFAULT_PAGES;
      for (const c of connections) {
        c.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
      }
      logger?.warn('SQLite checkpoints run on the event loop again', {
        reason,
      });
    },
  });
  client.pool?.on('poolDestroyRequest', () => void checkpointer.stop());
  return checkpointer;
}
