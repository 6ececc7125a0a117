import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { useSqliteWriteAheadLog } from './sqliteSettings';

/** The plugin's migrations (`migrations/`, ordered by name). */
export const migrationsDir = resolvePackagePath(
  '@internal/plugin-ml-platform-backend',
  'migrations',
);

/**
 * The plugin's database client with every migration applied, unless the
 * backend is configured to skip them (a SQLite file in WAL mode).
 */
export async function applyDatabaseMigrations(
  database: Pick<DatabaseService, 'getClient' | 'migrations'>,
): Promise<Knex> {
  const client = await database.getClient();
  await useSqliteWriteAheadLog(client);
  if (!database.migrations?.skip) {
    await client.migrate.latest({ directory: migrationsDir });
  }
  return client;
}
