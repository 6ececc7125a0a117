import {
  createTestStores,
  pendingSteps as steps,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';

jest.setTimeout(60_000);

const createStore = createTestStores;

describe.each(databases.eachSupportedId())(
  'DatabaseBuildStore (%s)',
  databaseId => {
    it('numbers builds per model and pages them newest first', async () => {
      const { stores } = await createStore(databaseId);
      const a1 = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        branch: 'main',
        steps,
      });
      const b1 = await stores.builds.createBuild({
        modelRef: 'component:default/b',
        trigger: 'push',
        steps,
      });
      const a2 = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'poll',
        steps,
      });
      expect([a1.version, b1.version, a2.version]).toEqual([1, 1, 2]);
      expect(a1).toMatchObject({ status: 'queued', steps, branch: 'main' });

      const page = await stores.builds.listBuilds({
        modelRef: 'component:default/a',
        limit: 1,
      });
      expect(page.totalCount).toBe(2);
      expect(page.items.map(b => b.version)).toEqual([2]);
      const queued = await stores.builds.listBuilds({
        status: ['queued'],
        order: 'oldest',
      });
      expect(queued.items.map(b => b.id)).toEqual([a1.id, b1.id, a2.id]);
    });

    it('assigns distinct versions to concurrent builds', async () => {
      const { stores } = await createStore(databaseId);
      const builds = await Promise.all(
        Array.from({ length: 5 }, () =>
          stores.builds.createBuild({
            modelRef: 'component:default/c',
            trigger: 'api',
            steps,
          }),
        ),
      );
      expect(builds.map(b => b.version).sort()).toEqual([1, 2, 3, 4, 5]);
    });

    it('builds a commit automatically once per model, even in a race', async () => {
      const { stores } = await createStore(databaseId);
      const push = (modelRef: string, trigger: 'push' | 'poll' | 'api') =>
        stores.builds.createBuild({
          modelRef,
          trigger,
          commitSha: 'a'.repeat(40),
          steps,
        });
      // Two instances handling one push (and the poller) at once.
      const results = await Promise.allSettled([
        push('component:default/a', 'push'),
        push('component:default/a', 'push'),
        push('component:default/a', 'poll'),
      ]);
      expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
      expect(
        results.flatMap(r => (r.status === 'rejected' ? [r.reason.name] : [])),
      ).toEqual(['ConflictError', 'ConflictError']);
      // Manual builds of that commit, and other models, are not limited.
      await push('component:default/a', 'api');
      await push('component:default/a', 'api');
      await push('component:default/b', 'push');
      const builds = await stores.builds.listBuilds({});
      expect(builds.totalCount).toBe(4);
    });

    it('updates builds and keeps their log in order', async () => {
      const { stores } = await createStore(databaseId);
      const build = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      const finishedAt = new Date('2026-01-02T03:04:05.000Z').toISOString();
      const done = await stores.builds.updateBuild(build.id, {
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

      await stores.builds.appendBuildLog(build.id, [
        { step: 'checkout', line: 'one' },
        { step: 'checkout', line: 'two' },
      ]);
      await stores.builds.appendBuildLog(build.id, [
        { step: 'test', line: 'three' },
      ]);
      const all = await stores.builds.readBuildLog(build.id);
      expect(all.map(l => l.line)).toEqual(['one', 'two', 'three']);
      const after = await stores.builds.readBuildLog(build.id, {
        afterId: all[1].id,
      });
      expect(after.map(l => [l.step, l.line])).toEqual([['test', 'three']]);

      await expect(
        stores.builds.updateBuild('00000000-0000-0000-0000-000000000000', {
          status: 'failed',
        }),
      ).rejects.toThrow(/No build with id/);
    });

    it('claims queued builds once, oldest first', async () => {
      const { stores } = await createStore(databaseId);
      const first = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      const second = await stores.builds.createBuild({
        modelRef: 'component:default/b',
        trigger: 'api',
        steps,
      });
      const claims = await Promise.all([
        stores.builds.claimNextBuild('w1'),
        stores.builds.claimNextBuild('w2'),
        stores.builds.claimNextBuild('w3'),
      ]);
      const claimed = claims
        .filter(Boolean)
        .map(b => b!.id)
        .sort();
      expect(claimed).toEqual([first.id, second.id].sort());
      expect(claims.filter(b => b?.id === first.id)).toHaveLength(1);
      expect(await stores.builds.claimNextBuild('w4')).toBeUndefined();
      const running = await stores.builds.getBuild(first.id);
      expect(running).toMatchObject({
        status: 'running',
        startedAt: expect.any(String),
      });
    });

    it('finds builds whose runner stopped beating', async () => {
      const { stores } = await createStore(databaseId);
      const build = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      await stores.builds.claimNextBuild('w1');
      expect(
        await stores.builds.listStaleBuilds(new Date(Date.now() - 60_000)),
      ).toEqual([]);
      const stale = await stores.builds.listStaleBuilds(
        new Date(Date.now() + 1000),
      );
      expect(stale.map(b => b.id)).toEqual([build.id]);
      await stores.builds.heartbeatBuilds([build.id]);
      expect(
        await stores.builds.listStaleBuilds(new Date(Date.now() - 5_000)),
      ).toEqual([]);
    });

    it('cancels queued builds at once and records requests for running ones', async () => {
      const { stores } = await createStore(databaseId);
      const queued = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      expect(await stores.builds.cancelBuild(queued.id)).toBe('cancelled');
      expect(await stores.builds.getBuild(queued.id)).toMatchObject({
        status: 'cancelled',
      });
      expect(await stores.builds.cancelBuild(queued.id)).toBe('finished');

      const running = await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        steps,
      });
      await stores.builds.claimNextBuild('w1');
      expect(await stores.builds.listCancelRequested([running.id])).toEqual([]);
      expect(await stores.builds.cancelBuild(running.id)).toBe('requested');
      expect(
        await stores.builds.listCancelRequested([running.id, queued.id]),
      ).toEqual([running.id]);
      await expect(
        stores.builds.cancelBuild('00000000-0000-0000-0000-000000000000'),
      ).rejects.toThrow(/No build/);
    });

    it('lists the builds of one commit', async () => {
      const { stores } = await createStore(databaseId);
      await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'push',
        commitSha: 'aaa',
        steps,
      });
      await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'poll',
        commitSha: 'bbb',
        steps,
      });
      await stores.builds.createBuild({
        modelRef: 'component:default/a',
        trigger: 'api',
        commitSha: 'aaa',
        steps,
      });
      const builds = await stores.builds.listBuildsOfCommit(
        'component:default/a',
        'aaa',
      );
      expect(builds.map(b => [b.version, b.trigger])).toEqual([
        [3, 'api'],
        [1, 'push'],
      ]);
    });
  },
);
