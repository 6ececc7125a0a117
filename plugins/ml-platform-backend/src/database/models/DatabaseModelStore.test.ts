import {
  createTestStores,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';

jest.setTimeout(60_000);

const createStore = createTestStores;

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
