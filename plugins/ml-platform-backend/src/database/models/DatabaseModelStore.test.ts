import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { createDatabaseStores } from '..';

jest.setTimeout(60_000);

// PostgreSQL runs whenever BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
// is set (.ci/run sets it); SQLite always.
const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

async function createStore(databaseId: TestDatabaseId) {
  const knex = await databases.init(databaseId);
  const stores = await createDatabaseStores({ getClient: async () => knex });
  return { knex, stores };
}

describe.each(databases.eachSupportedId())(
  'DatabaseModelStore (%s)',
  databaseId => {
    it('registers models and updates their source', async () => {
      const { stores } = await createStore(databaseId);
      await stores.models.upsertModel({
        entityRef: 'component:default/churn',
        gitUrl: 'file:///tmp/a',
      });
      const updated = await stores.models.upsertModel({
        entityRef: 'component:default/churn',
        gitUrl: 'file:///tmp/b',
        gitPath: 'models/churn',
      });
      expect(updated).toMatchObject({
        gitUrl: 'file:///tmp/b',
        gitPath: 'models/churn',
      });
      expect(await stores.models.listModels()).toHaveLength(1);
    });
  },
);
