import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { DatabaseMlPlatformStore } from './DatabaseMlPlatformStore';

jest.setTimeout(60_000);

// PostgreSQL runs whenever BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
// is set (.ci/run sets it); SQLite always.
const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

async function createStore(databaseId: TestDatabaseId) {
  const knex = await databases.init(databaseId);
  const store = await DatabaseMlPlatformStore.create({
    database: { getClient: async () => knex },
  });
  return { knex, store };
}

const steps = [{ name: 'checkout', status: 'pending' as const }];

describe.each(databases.eachSupportedId())(
  'DatabaseMlPlatformStore (%s)',
  databaseId => {
    it('creates every table of the first migration', async () => {
      const { knex } = await createStore(databaseId);
      for (const table of [
        'models',
        'builds',
        'build_logs',
        'deployments',
        'executions',
        'chunks',
      ]) {
        expect(await knex.schema.hasTable(table)).toBe(true);
      }
    });

    it('registers models and updates their source', async () => {
      const { store } = await createStore(databaseId);
      await store.upsertModel({
        entityRef: 'component:default/churn',
        gitUrl: 'file:///tmp/a',
      });
      const updated = await store.upsertModel({
        entityRef: 'component:default/churn',
        gitUrl: 'file:///tmp/b',
        gitPath: 'models/churn',
      });
      expect(updated).toMatchObject({
        gitUrl: 'file:///tmp/b',
        gitPath: 'models/churn',
      });
      expect(await store.listModels()).toHaveLength(1);
    });

    it('numbers builds per model and pages them newest first', async () => {
      const { store } = await createStore(databaseId);
      const a1 = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        branch: 'main',
        steps,
      });
      const b1 = await store.createBuild({
        modelRef: 'component:default/b',
        trigger: 'push',
        steps,
      });
      const a2 = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'poll',
        steps,
      });
      expect([a1.version, b1.version, a2.version]).toEqual([1, 1, 2]);
      expect(a1).toMatchObject({ status: 'queued', steps, branch: 'main' });

      const page = await store.listBuilds({
        modelRef: 'component:default/a',
        limit: 1,
      });
      expect(page.totalCount).toBe(2);
      expect(page.items.map(b => b.version)).toEqual([2]);
      const queued = await store.listBuilds({
        status: ['queued'],
        order: 'oldest',
      });
      expect(queued.items.map(b => b.id)).toEqual([a1.id, b1.id, a2.id]);
    });

    it('assigns distinct versions to concurrent builds', async () => {
      const { store } = await createStore(databaseId);
      const builds = await Promise.all(
        Array.from({ length: 5 }, () =>
          store.createBuild({
            modelRef: 'component:default/c',
            trigger: 'api',
            steps,
          }),
        ),
      );
      expect(builds.map(b => b.version).sort()).toEqual([1, 2, 3, 4, 5]);
    });

    it('updates builds and keeps their log in order', async () => {
      const { store } = await createStore(databaseId);
      const build = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      const finishedAt = new Date('2026-01-02T03:04:05.000Z').toISOString();
      const done = await store.updateBuild(build.id, {
        status: 'succeeded',
        commitSha: 'abc',
        steps: [{ name: 'checkout', status: 'succeeded', durationMs: 12 }],
        artifactDigest: 'sha256:00',
        finishedAt,
        manifest: { spec: {} },
      });
      expect(done).toMatchObject({
        status: 'succeeded',
        commitSha: 'abc',
        artifactDigest: 'sha256:00',
        finishedAt,
        steps: [{ name: 'checkout', status: 'succeeded', durationMs: 12 }],
      });

      await store.appendBuildLog(build.id, [
        { step: 'checkout', line: 'one' },
        { step: 'checkout', line: 'two' },
      ]);
      await store.appendBuildLog(build.id, [{ step: 'test', line: 'three' }]);
      const all = await store.readBuildLog(build.id);
      expect(all.map(l => l.line)).toEqual(['one', 'two', 'three']);
      const after = await store.readBuildLog(build.id, { afterId: all[1].id });
      expect(after.map(l => [l.step, l.line])).toEqual([['test', 'three']]);

      await expect(
        store.updateBuild('00000000-0000-0000-0000-000000000000', {
          status: 'failed',
        }),
      ).rejects.toThrow(/No build with id/);
    });

    it('claims queued builds once, oldest first', async () => {
      const { store } = await createStore(databaseId);
      const first = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      const second = await store.createBuild({
        modelRef: 'component:default/b',
        trigger: 'api',
        steps,
      });
      const claims = await Promise.all([
        store.claimNextBuild('w1'),
        store.claimNextBuild('w2'),
        store.claimNextBuild('w3'),
      ]);
      const claimed = claims
        .filter(Boolean)
        .map(b => b!.id)
        .sort();
      expect(claimed).toEqual([first.id, second.id].sort());
      expect(claims.filter(b => b?.id === first.id)).toHaveLength(1);
      expect(await store.claimNextBuild('w4')).toBeUndefined();
      const running = await store.getBuild(first.id);
      expect(running).toMatchObject({
        status: 'running',
        startedAt: expect.any(String),
      });
    });

    it('finds builds whose runner stopped beating', async () => {
      const { store } = await createStore(databaseId);
      const build = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      await store.claimNextBuild('w1');
      expect(
        await store.listStaleBuilds(new Date(Date.now() - 60_000)),
      ).toEqual([]);
      const stale = await store.listStaleBuilds(new Date(Date.now() + 1000));
      expect(stale.map(b => b.id)).toEqual([build.id]);
      await store.heartbeatBuilds([build.id]);
      expect(await store.listStaleBuilds(new Date(Date.now() - 5_000))).toEqual(
        [],
      );
    });

    it('cancels queued builds at once and records requests for running ones', async () => {
      const { store } = await createStore(databaseId);
      const queued = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      expect(await store.cancelBuild(queued.id)).toBe('cancelled');
      expect(await store.getBuild(queued.id)).toMatchObject({
        status: 'cancelled',
      });
      expect(await store.cancelBuild(queued.id)).toBe('finished');

      const running = await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      await store.claimNextBuild('w1');
      expect(await store.listCancelRequested([running.id])).toEqual([]);
      expect(await store.cancelBuild(running.id)).toBe('requested');
      expect(await store.listCancelRequested([running.id, queued.id])).toEqual([
        running.id,
      ]);
      await expect(
        store.cancelBuild('00000000-0000-0000-0000-000000000000'),
      ).rejects.toThrow(/No build/);
    });

    it('lists the builds of one commit', async () => {
      const { store } = await createStore(databaseId);
      await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'push',
        commitSha: 'aaa',
        steps,
      });
      await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'poll',
        commitSha: 'bbb',
        steps,
      });
      await store.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        commitSha: 'aaa',
        steps,
      });
      const builds = await store.listBuildsOfCommit(
        'component:default/a',
        'aaa',
      );
      expect(builds.map(b => [b.version, b.trigger])).toEqual([
        [3, 'api'],
        [1, 'push'],
      ]);
    });

    it('keeps deployments until deleted', async () => {
      const { store } = await createStore(databaseId);
      const d = await store.createDeployment({
        modelRef: 'component:default/a',
        buildId: '11111111-1111-1111-1111-111111111111',
        type: 'batch',
        replicas: 0,
        minReplicas: 0,
        maxReplicas: 0,
        batch: { chunkSize: 10, parallelism: 2, maxRetries: 1 },
      });
      expect(d).toMatchObject({ status: 'pending', batch: { chunkSize: 10 } });
      const ready = await store.updateDeployment(d.id, {
        status: 'ready',
        readyReplicas: 2,
        reason: 'all replicas ready',
      });
      expect(ready).toMatchObject({ status: 'ready', readyReplicas: 2 });
      expect(await store.listDeployments({ type: 'batch' })).toHaveLength(1);
      await store.deleteDeployment(d.id);
      expect(await store.getDeployment(d.id)).toBeUndefined();
      expect(await store.listDeployments({})).toEqual([]);
      await expect(store.deleteDeployment(d.id)).rejects.toThrow(
        /No deployment/,
      );
    });

    it('sums execution progress from its chunks', async () => {
      const { store } = await createStore(databaseId);
      const e = await store.createExecution({
        modelRef: 'component:default/a',
        buildId: '11111111-1111-1111-1111-111111111111',
        input: { type: 'path', path: 'in.csv' },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 100,
        parallelism: 2,
        maxRetries: 3,
      });
      expect(e).toMatchObject({
        status: 'pending',
        chunksDone: 0,
        rowsDone: 0,
      });
      await store.addChunks([
        { executionId: e.id, seq: 0, rowStart: 0, rowEnd: 100 },
        { executionId: e.id, seq: 1, rowStart: 100, rowEnd: 200 },
        { executionId: e.id, seq: 2, rowStart: 200, rowEnd: 250 },
      ]);
      await store.updateExecution(e.id, {
        status: 'running',
        chunksTotal: 3,
        rowsTotal: 250,
      });
      await store.updateChunk(e.id, 0, { status: 'succeeded', attempts: 1 });
      await store.updateChunk(e.id, 2, {
        status: 'failed',
        attempts: 3,
        error: 'boom',
      });
      const progress = await store.getExecution(e.id);
      expect(progress).toMatchObject({
        status: 'running',
        chunksTotal: 3,
        rowsTotal: 250,
        chunksDone: 1,
        chunksFailed: 1,
        rowsDone: 100,
        rowsFailed: 50,
        input: { type: 'path', path: 'in.csv' },
      });
      expect(
        (await store.listChunks(e.id, { status: ['pending'] })).map(c => c.seq),
      ).toEqual([1]);
      expect(
        await store.listExecutions({ modelRef: 'component:default/a' }),
      ).toHaveLength(1);
      await expect(
        store.updateChunk(e.id, 9, { status: 'failed' }),
      ).rejects.toThrow(/No chunk 9/);
    });

    it('joins latest build, live deployment and running executions per model', async () => {
      const { store } = await createStore(databaseId);
      const a = 'component:default/a';
      await store.createBuild({ modelRef: a, trigger: 'api', steps });
      const latest = await store.createBuild({
        modelRef: a,
        trigger: 'api',
        steps,
      });
      const stopped = await store.createDeployment({
        modelRef: a,
        buildId: latest.id,
        type: 'online',
        replicas: 1,
        minReplicas: 1,
        maxReplicas: 1,
      });
      await store.updateDeployment(stopped.id, { status: 'stopped' });
      const live = await store.createDeployment({
        modelRef: a,
        buildId: latest.id,
        type: 'online',
        replicas: 1,
        minReplicas: 1,
        maxReplicas: 1,
      });
      await store.createExecution({
        modelRef: a,
        buildId: latest.id,
        input: { type: 'path', path: 'x.csv' },
        output: { type: 'file', format: 'jsonl' },
        chunkSize: 1,
        parallelism: 1,
        maxRetries: 0,
      });
      await store.upsertModel({
        entityRef: 'component:default/registered-only',
      });

      const states = await store.getModelStates([
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
