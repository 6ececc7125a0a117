import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { createDatabaseStores } from '../database';
import { waitFor } from '../__testUtils__/modelRepository';
import { BuildQueue } from './BuildQueue';
import { initialSteps } from './BuildRunner';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('BuildQueue', () => {
  it('fails a build whose backend died mid-run (no heartbeat), exactly once', async () => {
    const knex = await databases.init('SQLITE_3');
    const stores = await createDatabaseStores({ getClient: async () => knex });
    const build = await stores.builds.createBuild({
      modelRef: 'component:default/a',
      trigger: 'api',
      steps: initialSteps(),
    });
    // Another instance claimed it, ran the checkout, and then vanished.
    await stores.builds.claimNextBuild('crashed-instance');
    const steps = initialSteps();
    steps[0].status = 'succeeded';
    steps[1].status = 'running';
    await stores.builds.updateBuild(build.id, { steps });

    const finished: string[] = [];
    const run = jest.fn();
    const queue = new BuildQueue({
      stores,
      runner: { run },
      logger: mockServices.logger.mock(),
      concurrency: 1,
      heartbeatMs: 100,
      staleAfterMs: 300,
      timeoutMs: 60_000,
      onFinished: b => {
        finished.push(`${b.id}:${b.status}`);
      },
    });
    await queue.start();
    await waitFor(async () => finished.length > 0, {
      what: 'the interrupted build to end',
    });
    await queue.stop();
    const failed = (await stores.builds.getBuild(build.id))!;

    expect(failed.failureReason).toBe(
      'Interrupted: the backend running this build stopped before it finished',
    );
    expect(failed.steps.map(s => s.status)).toEqual([
      'succeeded',
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(finished).toEqual([`${build.id}:failed`]);
    expect(run).not.toHaveBeenCalled();
    expect(
      (await stores.builds.readBuildLog(build.id)).map(l => l.line),
    ).toEqual(['Build failed: interrupted, the backend running it stopped']);
  });
});
