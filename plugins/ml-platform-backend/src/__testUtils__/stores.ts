import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { createDatabaseStores } from '../database';

/**
 * The databases the store tests run on: SQLite always, PostgreSQL whenever
 * BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING is set (.ci/run
 * sets it).
 */
export const storeTestDatabases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
});

/** Every store over a fresh, migrated database. */
export async function createTestStores(databaseId: TestDatabaseId) {
  const knex = await storeTestDatabases.init(databaseId);
  const stores = await createDatabaseStores({ getClient: async () => knex });
  return { knex, stores };
}

/** The steps of a new build, for stores that need some. */
export const pendingSteps = [{ name: 'checkout', status: 'pending' as const }];
