import {
  createTestStores,
  pendingSteps as steps,
  storeTestDatabases as databases,
} from '../__testUtils__/stores';
import { readModelStates } from './modelStates';

jest.setTimeout(60_000);

const createStore = createTestStores;

describe.each(databases.eachSupportedId())(
  'readModelStates (%s)',
  databaseId => {
    it('joins latest build, live deployment and running executions per model', async () => {
      const { stores } = await createStore(databaseId);
      const a = 'component:default/a';
      await stores.builds.createBuild({ modelRef: a, trigger: 'api', steps });
      const latest = await stores.builds.createBuild({
        modelRef: a,
        trigger: 'api',
        steps,
      });
      const stopped = await stores.deployments.createDeployment({
        modelRef: a,
        buildId: latest.id,
        type: 'online',
        replicas: 1,
        minReplicas: 1,
        maxReplicas: 1,
      });
      await stores.deployments.updateDeployment(stopped.id, {
        status: 'stopped',
      });
      const live = await stores.deployments.createDeployment({
        modelRef: a,
        buildId: latest.id,
        type: 'online',
        replicas: 1,
        minReplicas: 1,
        maxReplicas: 1,
      });
      await stores.executions.createExecution({
        modelRef: a,
        buildId: latest.id,
        input: { type: 'path', path: 'x.csv' },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 1,
        parallelism: 1,
        maxRetries: 0,
      });
      await stores.models.upsertModel({
        entityRef: 'component:default/registered-only',
      });

      const states = await readModelStates(stores, [
        a,
        'component:default/registered-only',
        'component:default/unknown',
      ]);
      expect(states.get(a)).toMatchObject({
        registered: true,
        latestBuild: { id: latest.id, version: 2 },
        liveDeployment: { id: live.id },
        runningExecutions: 1,
      });
      expect(states.get('component:default/registered-only')).toEqual({
        registered: true,
        runningExecutions: 0,
      });
      expect(states.has('component:default/unknown')).toBe(false);
    });
  },
);
