import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createDatabaseStores } from '../database';
import { QuotaExceededError, QuotaLimits, Quotas } from './Quotas';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const model = (name: string, owner: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: { type: 'ml-model', owner },
});

const limits: QuotaLimits = {
  onlineReplicasPerModel: 4,
  onlineReplicasPerOwner: 6,
  concurrentExecutionsPerModel: 2,
  queuedBuildsPerModel: 2,
};

describe.each(databases.eachSupportedId())('Quotas (%s)', databaseId => {
  async function setUp() {
    const knex = await databases.init(databaseId);
    const stores = await createDatabaseStores({ getClient: async () => knex });
    const quotas = new Quotas({
      limits,
      stores,
      auth: mockServices.auth(),
      catalog: catalogServiceMock({
        entities: [
          model('churn', 'data-science'),
          model('sentiment', 'group:default/data-science'),
          model('fraud', 'group:default/risk'),
        ],
      }),
    });
    const build = await stores.builds.createBuild({
      modelRef: 'component:default/churn',
      trigger: 'api',
      steps: [],
    });
    return { stores, quotas, build };
  }

  const refusal = (message: string) =>
    expect.objectContaining({
      name: 'QuotaExceededError',
      statusCode: 429,
      message,
    });

  it('counts online replicas (maxReplicas) per model and per owner', async () => {
    const { stores, quotas, build } = await setUp();
    const online = (modelRef: string, maxReplicas: number) =>
      stores.deployments.createDeployment({
        modelRef,
        buildId: build.id,
        type: 'online',
        replicas: 1,
        minReplicas: 0,
        maxReplicas,
      });
    await quotas.checkOnlineReplicas('component:default/churn', 4);
    await expect(
      quotas.checkOnlineReplicas('component:default/churn', 5),
    ).rejects.toEqual(
      refusal(
        'Quota mlPlatform.quotas.onlineReplicasPerModel (4) exceeded: component:default/churn would have up to 5 online replicas (maxReplicas)',
      ),
    );

    const churn = await online('component:default/churn', 3);
    await online('component:default/fraud', 4);
    // sentiment shares churn's owner (the short and the full ref alike).
    await quotas.checkOnlineReplicas('component:default/sentiment', 3);
    await expect(
      quotas.checkOnlineReplicas('component:default/sentiment', 4),
    ).rejects.toEqual(
      refusal(
        'Quota mlPlatform.quotas.onlineReplicasPerOwner (6) exceeded: the models of group:default/data-science would have up to 7 online replicas (maxReplicas)',
      ),
    );
    // Changing churn's own deployment replaces its size instead of adding.
    await quotas.checkOnlineReplicas('component:default/churn', 4, churn.id);
    // Deleted deployments use nothing.
    await stores.deployments.deleteDeployment(churn.id);
    await quotas.checkOnlineReplicas('component:default/sentiment', 4);
  });

  it('counts pending and running executions per model', async () => {
    const { stores, quotas, build } = await setUp();
    const start = () =>
      stores.executions.createExecution({
        modelRef: 'component:default/churn',
        buildId: build.id,
        input: { type: 'path', path: 'in.csv' },
        output: { type: 'file', format: 'csv' },
        chunkSize: 10,
        parallelism: 1,
        maxRetries: 0,
      });
    const first = await start();
    await stores.executions.updateExecution(first.id, { status: 'running' });
    await start();
    await expect(
      quotas.checkConcurrentExecutions('component:default/churn'),
    ).rejects.toEqual(
      refusal(
        'Quota mlPlatform.quotas.concurrentExecutionsPerModel (2) exceeded: component:default/churn has 2 executions pending or running; wait for one to end or cancel one',
      ),
    );
    await quotas.checkConcurrentExecutions('component:default/fraud');
    await stores.executions.updateExecution(first.id, { status: 'succeeded' });
    await quotas.checkConcurrentExecutions('component:default/churn');
  });

  it('counts queued builds per model', async () => {
    const { stores, quotas, build } = await setUp();
    await quotas.checkQueuedBuilds('component:default/churn');
    await stores.builds.createBuild({
      modelRef: 'component:default/churn',
      trigger: 'api',
      steps: [],
    });
    const error = await quotas
      .checkQueuedBuilds('component:default/churn')
      .catch(e => e);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error.message).toBe(
      'Quota mlPlatform.quotas.queuedBuildsPerModel (2) exceeded: component:default/churn has 2 builds queued; wait for one to start or cancel one',
    );
    await stores.builds.updateBuild(build.id, { status: 'running' });
    await quotas.checkQueuedBuilds('component:default/churn');
  });
});
