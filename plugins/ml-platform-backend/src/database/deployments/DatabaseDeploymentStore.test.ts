import {
  createTestStores,
  pendingSteps as steps,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';

jest.setTimeout(60_000);

const createStore = createTestStores;

describe.each(databases.eachSupportedId())(
  'DatabaseDeploymentStore (%s)',
  databaseId => {
    it('keeps deployments until deleted', async () => {
      const { stores } = await createStore(databaseId);
      const d = await stores.deployments.createDeployment({
        modelRef: 'component:default/a',
        buildId: '11111111-1111-1111-1111-111111111111',
        type: 'batch',
        replicas: 0,
        minReplicas: 0,
        maxReplicas: 0,
        batch: { chunkSize: 10, parallelism: 2, maxRetries: 1 },
      });
      expect(d).toMatchObject({ status: 'pending', batch: { chunkSize: 10 } });
      const ready = await stores.deployments.updateDeployment(d.id, {
        status: 'ready',
        readyReplicas: 2,
        reason: 'all replicas ready',
      });
      expect(ready).toMatchObject({ status: 'ready', readyReplicas: 2 });
      expect(
        await stores.deployments.listDeployments({ type: 'batch' }),
      ).toHaveLength(1);
      await stores.deployments.deleteDeployment(d.id);
      expect(await stores.deployments.getDeployment(d.id)).toBeUndefined();
      expect(await stores.deployments.listDeployments({})).toEqual([]);
      await expect(stores.deployments.deleteDeployment(d.id)).rejects.toThrow(
        /No deployment/,
      );
    });

    it('refuses a second live deployment of one type, whoever inserts first', async () => {
      const { stores } = await createStore(databaseId);
      const build = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      const request = {
        modelRef: 'component:default/a',
        buildId: build.id,
        type: 'online' as const,
        replicas: 1,
        minReplicas: 1,
        maxReplicas: 1,
      };
      const results = await Promise.allSettled([
        stores.deployments.createDeployment(request),
        stores.deployments.createDeployment(request),
      ]);
      expect(results.map(r => r.status).sort()).toEqual([
        'fulfilled',
        'rejected',
      ]);
      const refused = results.find(r => r.status === 'rejected');
      expect((refused as PromiseRejectedResult).reason).toMatchObject({
        name: 'ConflictError',
        message: 'component:default/a already has an online deployment',
      });
      // A batch deployment is another type; a deleted one frees the slot.
      await stores.deployments.createDeployment({ ...request, type: 'batch' });
      const [live] = await stores.deployments.listDeployments({
        modelRef: 'component:default/a',
        type: 'online',
      });
      await stores.deployments.deleteDeployment(live.id);
      await expect(
        stores.deployments.createDeployment(request),
      ).resolves.toMatchObject({ status: 'pending' });
    });
  },
);
