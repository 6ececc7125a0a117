import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import eventsPlugin from '@backstage/plugin-events-backend';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import { runProcess } from '../util/runProcess';
import { githubEventsModules } from '../__testUtils__/githubEventsModules';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';

jest.setTimeout(120_000);

const component = (name: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: {
    type: 'ml-model',
    owner: 'group:default/data-science',
    lifecycle: 'experimental',
  },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/data-science' }],
});

const entities = [
  component('churn'),
  component('broken'),
  component('slow'),
  component('deps'),
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'data-science', namespace: 'default' },
    spec: { type: 'team', children: [] },
    relations: [{ type: 'hasMember', targetRef: 'user:default/ada' }],
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'ada', namespace: 'default' },
    spec: {},
    relations: [{ type: 'memberOf', targetRef: 'group:default/data-science' }],
  },
];

const WEBHOOK_SECRET = 'hook-secret';

// Writes a minimal pure-Python wheel (package tinydep) to argv[1].
const WHEEL_SCRIPT = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('tinydep/__init__.py', 'SCALE = 3\\n')
    z.writestr('tinydep-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: tinydep\\nVersion: 1.0\\n')
    z.writestr('tinydep-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
    z.writestr('tinydep-1.0.dist-info/RECORD', '')
`;

describe('model builds', () => {
  let repo: ModelRepository;
  let dataDir: string;
  let server: any;
  let stopBackend: () => Promise<void>;

  const api = (p: string) => `/api/ml-platform${p}`;

  async function waitForBuild(
    id: string,
    status: string[] = ['succeeded', 'failed', 'cancelled'],
  ) {
    return waitFor(
      async () => {
        const res = await request(server).get(api(`/builds/${id}`));
        return status.includes(res.body.status) ? res.body : undefined;
      },
      { what: `build ${id} to reach ${status.join('/')}`, timeoutMs: 60_000 },
    );
  }

  async function register(name: string) {
    const res = await request(server)
      .post(api(`/models/default/${name}/register`))
      .send({ gitUrl: repo.url, gitPath: name, defaultBranch: 'main' });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    repo = await ModelRepository.create({
      churn: 'churn',
      broken: 'broken',
      slow: 'churn',
      deps: 'churn',
    });
    // A model with a requirement: a local wheel, installed with pip offline.
    await fs.promises.mkdir(path.join(repo.workPath, 'deps/wheels'), {
      recursive: true,
    });
    await runProcess({
      command: 'python3',
      args: [
        '-c',
        WHEEL_SCRIPT,
        path.join(repo.workPath, 'deps/wheels/tinydep-1.0-py3-none-any.whl'),
      ],
    });
    await repo.writeFile(
      'deps/requirements.txt',
      '# offline\n./wheels/tinydep-1.0-py3-none-any.whl\n',
    );
    const model = await fs.promises.readFile(
      path.join(repo.workPath, 'deps/model.py'),
      'utf8',
    );
    await repo.writeFile('deps/model.py', `import tinydep\n${model}`);
    // A model whose tests take long enough to cancel.
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
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-builds-'));

    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        // The real events service: the mock one does not cross plugins.
        eventsServiceFactory,
        eventsPlugin,
        ...githubEventsModules(),
        notificationsPlugin,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            mlPlatform: {
              dataDir,
              // Test repositories are local: under the git root, as the policy wants.
              git: { root: repo.root },
              builds: {
                concurrency: 2,
                pollInterval: 0,
                heartbeatInterval: 200,
                pip: { extraArgs: ['--no-index'] },
              },
            },
            events: {
              http: { topics: ['github'] },
              modules: { github: { webhookSecret: WEBHOOK_SECRET } },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stopBackend = () => backend.stop();
    for (const name of ['churn', 'broken', 'slow', 'deps'])
      await register(name);
  });

  afterAll(async () => {
    await stopBackend?.();
    await repo?.remove();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  it('builds the churn model from a branch into a versioned artifact', async () => {
    const head = (await repo.commitAndPush('Nothing new')).trim();
    const res = await request(server)
      .post(api('/models/default/churn/builds'))
      .send({ branch: 'main' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'queued',
      trigger: 'api',
      requestedBy: mockCredentials.user().principal.userEntityRef,
      branch: 'main',
      commitSha: head,
    });

    const build = await waitForBuild(res.body.id);
    expect(build.failureReason).toBeUndefined();
    expect(build).toMatchObject({
      status: 'succeeded',
      version: 1,
      commitMessage: 'Nothing new',
      commitAuthor: 'Ada Lovelace <ada@example.com>',
      artifactUri: expect.stringMatching(
        /^local:builds\/component_default_churn\/v1-/,
      ),
      artifactDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(build.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['checkout', 'succeeded'],
      ['validate', 'succeeded'],
      ['install', 'succeeded'],
      ['test', 'succeeded'],
      ['smoke', 'succeeded'],
      ['package', 'succeeded'],
    ]);
    for (const step of build.steps)
      expect(step.durationMs).toBeGreaterThanOrEqual(0);

    // The stored artifact is what the digest says, and holds the model.
    const artifact = path.join(
      dataDir,
      'artifacts',
      build.artifactUri.slice('local:'.length),
    );
    const bytes = await fs.promises.readFile(artifact);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(
      build.artifactDigest,
    );

    const log = await request(server).get(api(`/builds/${build.id}/logs`));
    expect(log.status).toBe(200);
    expect(log.text).toMatch(/==> test/);
    expect(log.text).toMatch(/^OK$/m);
    expect(log.text).toMatch(
      /prediction: \{"row_id": 0, "prediction": \{"churn_probability": 0\.95/,
    );

    const page = await request(server).get(
      api('/models/default/churn/builds?limit=5'),
    );
    expect(page.body).toMatchObject({
      totalCount: 1,
      items: [{ id: build.id }],
    });
    const model = await request(server).get(api('/models/default/churn'));
    expect(model.body.platform.latestBuild).toMatchObject({
      id: build.id,
      status: 'succeeded',
    });
  });

  it('fails the broken model at its tests, says why, and tells the owner', async () => {
    const res = await request(server)
      .post(api('/models/default/broken/builds'))
      .send({});
    const build = await waitForBuild(res.body.id);
    expect(build.status).toBe('failed');
    expect(build.failureReason).toMatch(
      /^Step test failed: the model's tests failed \(exit 1\): .*212 F must be 100 C/,
    );
    expect(build.steps.map((s: any) => s.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'failed',
      'skipped',
      'skipped',
    ]);
    expect(build.artifactUri).toBeUndefined();
    const log = await request(server).get(api(`/builds/${build.id}/logs`));
    expect(log.text).toMatch(/AssertionError/);
    expect(log.text).toMatch(/FAILED \(failures=\d+\)/);

    const notifications = await waitFor(
      async () => {
        const r = await request(server)
          .get('/api/notifications/notifications')
          .set(
            'Authorization',
            mockCredentials.user.header('user:default/ada'),
          );
        return r.body.notifications?.length ? r.body.notifications : undefined;
      },
      { what: 'the owner notification' },
    );
    expect(notifications[0].payload).toMatchObject({
      title: `Build v${build.version} of broken failed`,
      severity: 'high',
      description: build.failureReason,
    });
  });

  it('builds on a GitHub push posted to the events ingress, once per commit', async () => {
    await repo.writeFile('churn/NOTES.md', 'retrained\n');
    const sha = await repo.commitAndPush('Retrain churn');
    const payload = JSON.stringify({
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      deleted: false,
      repository: {
        full_name: 'acme/models',
        clone_url: repo.url,
        html_url: 'https://example.com/acme/models',
      },
      pusher: { name: 'ada', email: 'ada@example.com' },
      sender: { login: 'ada' },
      head_commit: {
        id: sha,
        message: 'Retrain churn',
        author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      },
      commits: [
        { id: sha, added: ['churn/NOTES.md'], modified: [], removed: [] },
      ],
    });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET)
      .update(payload)
      .digest('hex')}`;
    const post = () =>
      request(server)
        .post('/api/events/http/github')
        .set('Content-Type', 'application/json')
        .set('X-GitHub-Event', 'push')
        .set('X-Hub-Signature-256', signature)
        .send(payload);

    const unsigned = await request(server)
      .post('/api/events/http/github')
      .set('Content-Type', 'application/json')
      .set('X-GitHub-Event', 'push')
      .send(payload);
    expect(unsigned.status).toBe(403);

    expect((await post()).status).toBe(202);
    const build = await waitFor(
      async () => {
        const r = await request(server).get(
          api('/models/default/churn/builds'),
        );
        return r.body.items.find((b: any) => b.commitSha === sha);
      },
      { what: 'the push build' },
    );
    expect(build).toMatchObject({
      trigger: 'push',
      triggerSource: 'github.push',
      requestedBy: 'ada',
      branch: 'main',
    });
    // Only churn's files changed: the other models of the repository do not build.
    const broken = await request(server).get(
      api('/models/default/broken/builds'),
    );
    expect(broken.body.items.some((b: any) => b.commitSha === sha)).toBe(false);

    expect((await post()).status).toBe(202);
    const done = await waitForBuild(build.id);
    expect(done.status).toBe('succeeded');
    const all = await request(server).get(
      api('/models/default/churn/builds?limit=50'),
    );
    expect(all.body.items.filter((b: any) => b.commitSha === sha)).toHaveLength(
      1,
    );
  });

  it("installs requirements into the build's own virtualenv", async () => {
    const res = await request(server)
      .post(api('/models/default/deps/builds'))
      .send({});
    const build = await waitForBuild(res.body.id);
    expect(build.failureReason).toBeUndefined();
    expect(build.status).toBe('succeeded');
    const log = await request(server).get(api(`/builds/${build.id}/logs`));
    expect(log.text).toMatch(/Successfully installed tinydep-1.0/);
    // Installed in the build's venv, not in the system interpreter.
    const venvPython = path.join(
      dataDir,
      'builds',
      build.id,
      'venv',
      'bin',
      'python',
    );
    const probe = await runProcess({
      command: venvPython,
      args: ['-c', 'import tinydep; print(tinydep.SCALE)'],
      onLine: () => {},
    });
    expect(probe.tail).toEqual(['3']);
    const system = await runProcess({
      command: 'python3',
      args: ['-c', 'import tinydep'],
    });
    expect(system.exitCode).not.toBe(0);
  });

  it('cancels a running build by killing its step', async () => {
    const res = await request(server)
      .post(api('/models/default/slow/builds'))
      .send({});
    await waitFor(
      async () => {
        const log = await request(server).get(
          api(`/builds/${res.body.id}/logs`),
        );
        return log.text.includes('sleeping');
      },
      { what: 'the slow tests to start' },
    );
    const started = Date.now();
    const cancel = await request(server).post(
      api(`/builds/${res.body.id}/cancel`),
    );
    expect(cancel.status).toBe(202);
    const build = await waitForBuild(res.body.id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(build).toMatchObject({
      status: 'cancelled',
      failureReason: 'Cancelled',
    });
    expect(build.steps.find((s: any) => s.name === 'test').status).toBe(
      'cancelled',
    );
  });

  it('follows the log of a running build until it ends', async () => {
    const res = await request(server)
      .post(api('/models/default/churn/builds'))
      .send({ commit: (await repo.commitAndPush('Follow me')).slice(0, 12) });
    expect(res.status).toBe(202);
    const followed = await request(server)
      .get(api(`/builds/${res.body.id}/logs?follow=true`))
      .set('Accept-Encoding', 'gzip');
    // Compressed, a followed log would arrive only when the build ends.
    expect(followed.headers['content-encoding']).toBeUndefined();
    expect(followed.headers['cache-control']).toContain('no-transform');
    expect(followed.text).toMatch(
      /==> checkout[\s\S]*==> package[\s\S]*Build succeeded$/m,
    );
    const json = await request(server).get(
      api(`/builds/${res.body.id}/logs?format=json&after=0`),
    );
    expect(json.body).toMatchObject({
      finished: true,
      lastId: expect.any(Number),
    });
    expect(json.body.items[0]).toMatchObject({
      id: expect.any(Number),
      line: expect.any(String),
    });
  });

  it('refuses bad requests, naming the field, and queues nothing', async () => {
    const before = await request(server).get(
      api('/models/default/churn/builds'),
    );
    const cases: [unknown, number, RegExp][] = [
      [
        { branch: 'no such branch' },
        400,
        /body.branch: expected a branch name/,
      ],
      [{ branch: 'nope' }, 400, /body.branch: no branch "nope"/],
      [{ commit: 'xyz' }, 400, /body.commit: expected a commit SHA/],
      [{ sha: 'abc' }, 400, /sha/],
    ];
    for (const [body, status, message] of cases) {
      const res = await request(server)
        .post(api('/models/default/churn/builds'))
        .send(body as object);
      expect({ status: res.status, message: res.body.error?.message }).toEqual({
        status,
        message: expect.stringMatching(message),
      });
    }
    expect(
      (await request(server).post(api('/models/default/nope/builds')).send({}))
        .status,
    ).toBe(404);
    expect(
      (await request(server).get(api('/models/default/churn/builds?limit=0')))
        .body.error.message,
    ).toMatch(/query.limit: expected an integer from 1 to 200/);
    expect(
      (
        await request(server).get(
          api('/builds/00000000-0000-0000-0000-000000000000'),
        )
      ).status,
    ).toBe(404);
    const after = await request(server).get(
      api('/models/default/churn/builds'),
    );
    expect(after.body.totalCount).toBe(before.body.totalCount);
  });
});
