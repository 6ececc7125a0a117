import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { runGit } from '@internal/plugin-ml-platform-node';
import knexFactory from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import {
  ModelRepository,
  examplesDir,
  waitFor,
} from '../__testUtils__/modelRepository';
import { api, waitForBuild } from '../__testUtils__/platformApi';

jest.setTimeout(120_000);

const component = (name: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: { type: 'ml-model', owner: 'group:default/data-science' },
});

describe('builds across backend restarts and without webhooks', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-lifecycle-'),
    );
  });
  afterEach(() => fs.promises.rm(dataDir, { recursive: true, force: true }));

  it('fails the build that was running when the backend stopped, and runs the queued one after the restart', async () => {
    const repo = await ModelRepository.create({
      churn: 'churn',
      slow: 'churn',
    });
    const manifest = await fs.promises.readFile(
      path.join(repo.workPath, 'slow/mlmodel.yaml'),
      'utf8',
    );
    await repo.writeFile(
      'slow/mlmodel.yaml',
      manifest.replace(
        /tests: .*/,
        'tests: python3 -c "import time; print(\'sleeping\', flush=True); time.sleep(60)"',
      ),
    );
    await repo.commitAndPush('Slow tests');

    // The database is a SQLite file that outlives each backend.
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: path.join(dataDir, 'ml-platform.sqlite') },
      useNullAsDefault: true,
    });
    const start = async () =>
      startTestBackend({
        features: [
          mlPlatformPlugin,
          catalogServiceMock.factory({
            entities: ['churn', 'slow'].map(component),
          }),
          mockServices.rootConfig.factory({
            data: {
              mlPlatform: {
                dataDir,
                // Test repositories are local: under the git root, as the policy wants.
                git: { root: repo.root },
                builds: {
                  concurrency: 1,
                  pollInterval: 0,
                  heartbeatInterval: 200,
                },
              },
            },
          }),
          mockServices.database.factory({ knex: db }),
        ],
      });

    const first = await start();
    for (const name of ['slow', 'churn']) {
      await request(first.server)
        .post(api(`/models/default/${name}/register`))
        .send({ gitUrl: repo.url, gitPath: name, defaultBranch: 'main' });
    }
    const slow = (
      await request(first.server)
        .post(api('/models/default/slow/builds'))
        .send({})
    ).body;
    const churn = (
      await request(first.server)
        .post(api('/models/default/churn/builds'))
        .send({})
    ).body;
    await waitFor(
      async () =>
        (
          await request(first.server).get(api(`/builds/${slow.id}/logs`))
        ).text.includes('sleeping'),
      { what: 'the slow build to run' },
    );
    expect(
      (await request(first.server).get(api(`/builds/${churn.id}`))).body.status,
    ).toBe('queued');

    await first.stop();

    const second = await start();
    const interrupted = (
      await request(second.server).get(api(`/builds/${slow.id}`))
    ).body;
    expect(interrupted).toMatchObject({
      status: 'failed',
      failureReason: expect.stringMatching(
        /^Interrupted: the backend shut down/,
      ),
    });
    const done = await waitForBuild(
      second.server,
      churn.id,
      'the queued build to run after the restart',
    );
    expect(done.status).toBe('succeeded');
    await second.stop();
    await db.destroy();
    await repo.remove();
  });

  it('builds the example models out of the box, then new commits found by polling', async () => {
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        schedulerServiceFactory,
        catalogServiceMock.factory({
          entities: ['churn', 'sentiment'].map(component),
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir,
              builds: {
                concurrency: 2,
                pollInterval: 500,
                heartbeatInterval: 200,
              },
              seedRepositories: [
                {
                  name: 'examples',
                  from: examplesDir,
                  models: [
                    { entityRef: 'component:default/churn', path: 'churn' },
                    {
                      entityRef: 'component:default/sentiment',
                      path: 'sentiment',
                    },
                  ],
                },
              ],
            },
          },
        }),
      ],
    });
    const server = backend.server;
    const seeded = path.join(dataDir, 'git', 'examples.git');
    expect(fs.existsSync(seeded)).toBe(true);

    for (const name of ['churn', 'sentiment']) {
      const build = await waitFor(
        async () => {
          const items = (
            await request(server).get(api(`/models/default/${name}/builds`))
          ).body.items;
          return items?.[0]?.status === 'succeeded' ? items[0] : undefined;
        },
        { what: `the first build of ${name}`, timeoutMs: 60_000 },
      );
      expect(build).toMatchObject({
        version: 1,
        trigger: 'poll',
        triggerSource: 'git ls-remote',
        branch: 'main',
      });
    }

    // A data scientist pushes to the seeded repository.
    const work = path.join(dataDir, 'work');
    await runGit(['clone', '--quiet', seeded, work]);
    await fs.promises.appendFile(
      path.join(work, 'churn', 'README.md'),
      '\nRetrained.\n',
    );
    const env = {
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'a@x',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'a@x',
    };
    await runGit(['commit', '-qam', 'Retrain'], { cwd: work, env });
    await runGit(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
    const sha = (await runGit(['rev-parse', 'HEAD'], { cwd: work })).trim();

    const polled = await waitFor(
      async () => {
        const items = (
          await request(server).get(api('/models/default/churn/builds'))
        ).body.items;
        return items.find((b: any) => b.commitSha === sha);
      },
      { what: 'a build of the pushed commit' },
    );
    expect(polled).toMatchObject({ version: 2, trigger: 'poll' });
    // The poller sees the commit every interval but builds it once.
    await new Promise(r => setTimeout(r, 1500));
    const all = (await request(server).get(api('/models/default/churn/builds')))
      .body;
    expect(all.items.filter((b: any) => b.commitSha === sha)).toHaveLength(1);
    await backend.stop();
  });
});
