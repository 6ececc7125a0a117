import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { createDatabaseStores } from '..';
import { DatabaseActivityStore } from './DatabaseActivityStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

async function createStore(databaseId: TestDatabaseId) {
  const knex = await databases.init(databaseId);
  await createDatabaseStores({ getClient: async () => knex });
  return { knex, store: new DatabaseActivityStore(knex) };
}

describe.each(databases.eachSupportedId())(
  'DatabaseActivityStore (%s)',
  databaseId => {
    it('pages a model’s activity newest first', async () => {
      const { store } = await createStore(databaseId);
      for (let i = 0; i < 5; i++) {
        await store.add({
          modelRef: 'component:default/churn',
          action: 'deployment.scale',
          actor: 'user:default/ada',
          outcome: i === 3 ? 'refused' : 'succeeded',
          message: `step ${i}`,
          subjectId: i === 0 ? 'd-1' : undefined,
          requestId: `r-${i}`,
        });
      }
      await store.add({
        modelRef: 'component:default/other',
        action: 'build.create',
        actor: 'ml-platform:poll',
        outcome: 'succeeded',
        message: 'elsewhere',
      });

      const first = await store.list({
        modelRef: 'component:default/churn',
        limit: 2,
        offset: 0,
      });
      expect(first.totalCount).toBe(5);
      expect(first.items.map(a => a.message)).toEqual(['step 4', 'step 3']);
      expect(first.items[1]).toEqual({
        id: expect.any(String),
        modelRef: 'component:default/churn',
        action: 'deployment.scale',
        actor: 'user:default/ada',
        outcome: 'refused',
        message: 'step 3',
        requestId: 'r-3',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      const last = await store.list({
        modelRef: 'component:default/churn',
        limit: 2,
        offset: 4,
      });
      expect(last.items.map(a => [a.message, a.subjectId])).toEqual([
        ['step 0', 'd-1'],
      ]);
    });

    it('migrates down and up again', async () => {
      const { knex } = await createStore(databaseId);
      const directory = resolvePackagePath(
        '@internal/plugin-ml-platform-backend',
        'migrations',
      );
      await knex.migrate.down({
        directory,
        name: '20261203100000_activity.js',
      });
      expect(await knex.schema.hasTable('activity')).toBe(false);
      await knex.migrate.latest({ directory });
      expect(await knex.schema.hasTable('activity')).toBe(true);
    });
  },
);
