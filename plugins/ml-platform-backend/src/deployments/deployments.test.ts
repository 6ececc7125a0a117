import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import { TestDataPlane } from '../__testUtils__/dataPlane';
import {
  churnExpected,
  churnV2Body,
  mlModelComponent,
} from '../__testUtils__/churnReference';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { api, buildModel } from '../__testUtils__/platformApi';

jest.setTimeout(180_000);

const component = mlModelComponent;
const expected = churnExpected();
const rows = expected.map(e => e.input);

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const v2Body = churnV2Body;

describe('online deployments and the gateway (local runtime)', () => {
  let repo: ModelRepository;
  let dataDir: string;
  let server: any;
  let stop: () => Promise<void>;
  let dataPlane: TestDataPlane;

  const build = (model: string) =>
    buildModel(server, model, { allowFailure: true });

  async function waitForDeployment(
    id: string,
    check: (d: any) => boolean,
    what: string,
  ) {
    return waitFor(
      async () => {
        const d = (await request(server).get(api(`/deployments/${id}`))).body;
        return check(d) ? d : undefined;
      },
      { what, timeoutMs: 60_000 },
    );
  }

  /** Sends requests from `concurrency` loops until `until` resolves. */
  async function load(until: Promise<unknown>, concurrency = 4) {
    let done = false;
    void until.finally(() => {
      done = true;
    });
    const statuses: number[] = [];
    const versions = new Set<string>();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        while (!done) {
          const res = await request(server)
            .post(api('/v2/models/churn/infer'))
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(v2Body([rows[i % rows.length]])));
          statuses.push(res.status);
          if (res.status === 200) versions.add(res.body.model_version);
        }
      }),
    );
    return { statuses, versions };
  }

  beforeAll(async () => {
    repo = await ModelRepository.create({ churn: 'churn', broken: 'broken' });
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-deploy-'));
    // Invocations take the data plane, as in the portal's backend.
    dataPlane = new TestDataPlane();
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        dataPlane.factory,
        // The real scheduler: the reconciler's periodic run does the idle checks.
        schedulerServiceFactory,
        catalogServiceMock.factory({
          entities: [
            component('churn'),
            component('broken'),
            component('idle'),
          ],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir,
              // Test repositories are local: under the git root, as the policy wants.
              git: { root: repo.root },
              builds: { pollInterval: 0, heartbeatInterval: 200 },
              online: { reconcileInterval: 500, scaleToZeroAfter: 1500 },
              gateway: { maxBodyBytes: 64 * 1024 },
            },
          },
        }),
      ],
    });
    server = backend.server;
    dataPlane.attach(backend.server);
    stop = () => backend.stop();
    for (const name of ['churn', 'broken']) {
      await request(server)
        .post(api(`/models/default/${name}/register`))
        .send({ gitUrl: repo.url, gitPath: name, defaultBranch: 'main' });
    }
  });

  afterAll(async () => {
    await stop?.();
    await repo?.remove();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  it('deploys a real build, answers on both gateway paths, survives a killed replica, rolls out and back with no failed request', async () => {
    const v1 = await build('churn');
    expect(v1.status).toBe('succeeded');

    const created = await request(server)
      .post(api('/models/default/churn/deployments'))
      .send({ buildId: v1.id, type: 'online', replicas: 2, minReplicas: 1 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      type: 'online',
      status: 'deploying',
      replicas: 2,
    });
    const id = created.body.id;
    const ready = await waitForDeployment(
      id,
      d => d.status === 'ready' && d.readyReplicas === 2,
      'two ready replicas',
    );
    expect(ready.replicaStatus.map((r: any) => r.state)).toEqual([
      'ready',
      'ready',
    ]);

    // Open Inference Protocol through the gateway.
    const v2 = await request(server)
      .post(api('/v2/models/churn/infer'))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(v2Body(rows)));
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ model_name: 'churn', model_version: '1' });
    const probability = v2.body.outputs.find(
      (o: any) => o.name === 'churn_probability',
    ).data;
    probability.forEach((p: number, i: number) =>
      expect(p).toBeCloseTo(expected[i].churn_probability, 6),
    );

    // MLflow records through the gateway.
    const records = await request(server)
      .post(api('/models/default/churn/predict'))
      .send({ dataframe_records: rows });
    expect(records.status).toBe(200);
    expect(
      records.body.predictions.map((p: any) => p.churn_probability),
    ).toEqual(expected.map(e => expect.closeTo(e.churn_probability, 6)));
    // The model's own errors come back as the model said them.
    const bad = await request(server)
      .post(api('/models/default/churn/predict'))
      .send({ dataframe_records: [{ ...rows[0], contract: 'weekly' }] });
    expect(bad.status).toBe(500);
    expect(bad.body.error).toMatch(/weekly/);

    // SIGKILL one of two replicas while requests keep coming.
    const victim = ready.replicaStatus[0];
    const killed = (async () => {
      await new Promise(r => setTimeout(r, 300));
      process.kill(victim.pid, 'SIGKILL');
      await new Promise(r => setTimeout(r, 1000));
      await waitForDeployment(
        id,
        d =>
          d.readyReplicas === 2 &&
          d.replicaStatus.every(
            (r: any) => r.pid !== victim.pid || r.state !== 'ready',
          ),
        'the killed replica to come back',
      );
    })();
    const duringKill = await load(killed);
    expect(duringKill.statuses.filter(s => s !== 200)).toEqual([]);
    expect(duringKill.statuses.length).toBeGreaterThan(20);
    expect(dataPlane.served).toBeGreaterThan(duringKill.statuses.length);

    // Roll out a new build under load.
    await repo.writeFile('churn/NOTES.md', 'v2\n');
    await repo.commitAndPush('Second version');
    const v2build = await build('churn');
    expect(v2build.version).toBe(2);
    const rolledOut = (async () => {
      const patch = await request(server)
        .patch(api(`/deployments/${id}`))
        .send({ buildId: v2build.id });
      expect(patch.status).toBe(200);
      await waitForDeployment(
        id,
        d =>
          d.status === 'ready' &&
          d.buildId === v2build.id &&
          d.replicaStatus.every((r: any) => r.buildId === v2build.id),
        'the rollout',
      );
      await new Promise(r => setTimeout(r, 300));
    })();
    const duringRollout = await load(rolledOut);
    expect(duringRollout.statuses.filter(s => s !== 200)).toEqual([]);
    expect(duringRollout.versions).toEqual(new Set(['1', '2']));
    const after = await request(server)
      .post(api('/v2/models/churn/infer'))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(v2Body(rows)));
    expect(after.body.model_version).toBe('2');

    // Roll back, and scale down.
    await request(server)
      .patch(api(`/deployments/${id}`))
      .send({ buildId: v1.id, replicas: 1 });
    const back = await waitForDeployment(
      id,
      d =>
        d.status === 'ready' &&
        d.readyReplicas === 1 &&
        d.replicaStatus.length === 1 &&
        d.replicaStatus[0].buildId === v1.id,
      'the rollback',
    );
    expect(back.buildId).toBe(v1.id);

    const logs = await request(server).get(
      api(`/deployments/${id}/logs?tail=10000`),
    );
    expect(logs.text).toMatch(/POST \/v2\/models\/churn\/infer 200/);
    expect(logs.text).toMatch(/killed by SIGKILL/);
    expect(logs.text).toMatch(/rolled out build/);

    const model = await request(server).get(api('/models/default/churn'));
    expect(model.body.platform.liveDeployment).toMatchObject({
      id,
      status: 'ready',
    });

    await request(server)
      .delete(api(`/deployments/${id}`))
      .expect(204);
    const gone = await request(server)
      .post(api('/models/default/churn/predict'))
      .send({ dataframe_records: rows });
    expect(gone.status).toBe(503);
    expect(gone.body.error.message).toBe(
      'component:default/churn has no online deployment; deploy a build first',
    );
    await waitFor(async () => !isAlive(back.replicaStatus[0].pid), {
      what: 'the replica to exit',
    });
  });

  it('refuses what cannot be deployed or invoked, saying why', async () => {
    const broken = await build('broken');
    expect(broken.status).toBe('failed');
    const failedBuild = await request(server)
      .post(api('/models/default/broken/deployments'))
      .send({ buildId: broken.id, type: 'online' });
    expect(failedBuild.status).toBe(400);
    expect(failedBuild.body.error.message).toBe(
      `body.buildId: build v${broken.version} is failed; only succeeded builds can be deployed`,
    );
    const missing = await request(server)
      .post(api('/models/default/churn/deployments'))
      .send({
        buildId: '00000000-0000-4000-8000-000000000000',
        type: 'online',
      });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(
      /body.buildId: component:default\/churn has no build/,
    );
    const badBody = await request(server)
      .post(api('/models/default/churn/deployments'))
      .send({ buildId: 'x', type: 'sometimes' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.message).toMatch(
      /body.buildId: expected the id of a build; body.type: expected online or batch/,
    );

    const unknown = await request(server)
      .post(api('/v2/models/nope/infer'))
      .send({ inputs: [] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('No model named nope');
    const undeployed = await request(server)
      .post(api('/v2/models/broken/infer'))
      .send({ inputs: [] });
    expect(undeployed.status).toBe(503);
    expect(undeployed.body.error.message).toBe(
      'Model broken has no online deployment; deploy a build first',
    );
  });

  it('scales an idle deployment to zero and starts it again on the next request', async () => {
    const [latest] = (
      await request(server).get(api('/models/default/churn/builds'))
    ).body.items.filter((b: any) => b.status === 'succeeded');
    const created = await request(server)
      .post(api('/models/default/churn/deployments'))
      .send({
        buildId: latest.id,
        type: 'online',
        replicas: 1,
        minReplicas: 0,
      });
    const id = created.body.id;
    const ready = await waitForDeployment(
      id,
      d => d.status === 'ready',
      'ready',
    );
    const pid = ready.replicaStatus[0].pid;

    const idle = await waitForDeployment(
      id,
      d => d.status === 'stopped',
      'scale to zero',
    );
    expect(idle.reason).toMatch(/^Scaled to zero after/);
    expect(idle.readyReplicas).toBe(0);
    expect(idle.scaledToZeroAt).toEqual(expect.any(String));
    await waitFor(async () => !isAlive(pid), {
      what: 'the idle replica to exit',
    });

    const started = Date.now();
    const cold = await request(server)
      .post(api('/models/default/churn/predict'))
      .send({ dataframe_records: rows.slice(0, 1) });
    expect(cold.status).toBe(200);
    expect(cold.body.predictions).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    const awake = await waitForDeployment(
      id,
      d => d.status === 'ready' && d.readyReplicas === 1,
      'awake',
    );
    expect(awake.scaledToZeroAt).toBeUndefined();

    const tooBig = await request(server)
      .post(api('/models/default/churn/predict'))
      .set('Content-Type', 'application/json')
      .send(
        JSON.stringify({
          dataframe_records: Array.from({ length: 2000 }, () => rows[0]),
        }),
      );
    expect(tooBig.status).toBe(413);
    await request(server)
      .delete(api(`/deployments/${id}`))
      .expect(204);
  });
});
