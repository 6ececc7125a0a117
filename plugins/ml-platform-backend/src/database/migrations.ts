import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';

/** The plugin's migrations (`migrations/`, ordered by name). */
export const migrationsDir = resolvePackagePath(
  '@internal/plugin-ml-platform-backend',
  'migrations',
);

/**
 * The plugin's database client with every migration applied, unless the
 * backend is configured to skip them.
 */
export async function applyDatabaseMigrations(
  database: Pick<DatabaseService, 'getClient' | 'migrations'>,
): Promise<Knex> {
  const client = await database.getClient();
  if (!database.migrations?.skip) {
    await client.migrate.latest({ directory: migrationsDir });
  }
  return client;
}
