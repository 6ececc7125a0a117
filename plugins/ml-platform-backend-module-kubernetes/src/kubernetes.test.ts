import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { modelRuntimePythonPath } from '@internal/ml-platform-model-runtime';
// The end-to-end test runs the plugin this module extends.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import mlPlatformPlugin from '@internal/plugin-ml-platform-backend';
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import {
  FLAKY_CHURN_MODEL,
  ModelRepository,
  api,
  buildModel,
  churnExpected,
  churnReference,
  churnRow,
  churnV2Body,
  mlModelComponent,
  waitFor,
  waitForExecution,
  writeChurnCsv,
  writeModelVariant,
} from '@internal/plugin-ml-platform-backend/testUtils';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { FakeCluster } from './__testUtils__/FakeCluster';
import {
  FakeKubernetesApi,
  KubeObject,
} from './__testUtils__/FakeKubernetesApi';
import { FakeS3Server } from './__testUtils__/FakeS3Server';
import { mlPlatformModuleKubernetes } from './module';

jest.setTimeout(180_000);

const NS = 'ml';
const expected = churnExpected();
const rows = expected.map(e => e.input);
const imageDir = path.resolve(__dirname, '../image');

/** Validates a stored object against the Kubernetes OpenAPI schemas. */
const MODELS: Record<string, (o: any) => { validate(): void }> = {
  Deployment: o => new Deployment(o),
  Service: o => new Service(o),
  HorizontalPodAutoscaler: o => new HorizontalPodAutoscaler(o),
  Secret: o => new Secret(o),
  Job: o => new Job(o),
};

describe('the kubernetes runtime, on a fake cluster', () => {
  let k8s: FakeKubernetesApi;
  let cluster: FakeCluster;
  let s3: FakeS3Server;
  let repo: ModelRepository;
  let tmp: string;
  let server: any;
  let stopBackend: () => Promise<void>;
  /** Every object the runtime sent to be created. */
  const created = () =>
    k8s.requests
      .filter(r => r.method === 'POST' && r.body)
      .map(r => r.body as KubeObject);

  const byLabel = (plural: string, selector: string) =>
    k8s.list(plural, NS, selector);

  beforeAll(async () => {
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-k8s-'));
    k8s = await FakeKubernetesApi.start();
    cluster = new FakeCluster(k8s, {
      'mlp-runtime:test': {
        entrypoint: ['python3', '/opt/mlp/mlp_pod.py'],
        cmd: ['serve'],
        env: {
          PYTHONPATH: '/opt/mlp/runtime',
          PYTHONUNBUFFERED: '1',
          FLAKY_MARKER_DIR: tmp,
        },
        paths: {
          '/opt/mlp/runtime': modelRuntimePythonPath,
          '/opt/mlp': imageDir,
        },
      },
    });
    cluster.start();
    s3 = await FakeS3Server.start({ buckets: ['mlp'] });

    repo = await ModelRepository.create({
      churn: 'churn',
      flaky: 'churn',
      slow: 'churn',
    });
    // The second chunk of the flaky model fails once (a marker file remembers).
    await writeModelVariant(repo, 'flaky', 'flaky', FLAKY_CHURN_MODEL);
    await writeModelVariant(
      repo,
      'slow',
      'slow',
      [
        'import time',
        'from model import Model as Churn',
        '',
        'class Model(Churn):',
        '    def predict(self, rows):',
        '        time.sleep(3)',
        '        return super().predict(rows)',
        '',
      ].join('\n'),
    );
    await repo.commitAndPush('Flaky and slow models');

    const component = mlModelComponent('churn');
    const churn = {
      ...component,
      metadata: {
        ...component.metadata,
        annotations: { 'backstage.io/kubernetes-label-selector': 'app=churn' },
      },
    };
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        mlPlatformModuleKubernetes,
        schedulerServiceFactory,
        ...(process.env.DEBUG_K8S
          ? [mockServices.rootLogger.factory({ level: 'info' })]
          : []),
        catalogServiceMock.factory({
          entities: [
            churn,
            mlModelComponent('flaky'),
            mlModelComponent('slow'),
          ],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: path.join(tmp, 'data'),
              runtime: 'kubernetes',
              git: { root: repo.root },
              artifacts: {
                type: 's3',
                s3: {
                  bucket: 'mlp',
                  endpoint: s3.endpoint,
                  accessKeyId: s3.accessKeyId,
                  secretAccessKey: 'fake-secret',
                },
              },
              builds: { pollInterval: 0, heartbeatInterval: 200 },
              online: { reconcileInterval: 300 },
              batch: {
                allowedInputRoots: [path.join(tmp, 'inputs')],
                heartbeatInterval: 200,
              },
              kubernetes: {
                auth: 'token',
                url: k8s.url,
                token: k8s.token,
                caData: k8s.caData,
                namespace: NS,
                image: 'mlp-runtime:test',
                replicaUrls: 'pods',
                terminationGracePeriodSeconds: 5,
              },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stopBackend = () => backend.stop();
    for (const name of ['churn', 'flaky', 'slow']) {
      await request(server)
        .post(api(`/models/default/${name}/register`))
        .send({ gitUrl: repo.url, gitPath: name, defaultBranch: 'main' });
    }
  });

  afterAll(async () => {
    await stopBackend?.();
    await cluster?.stop();
    await k8s?.close();
    await s3?.close();
    await repo?.remove();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  let deploymentId: string;
  let objectName: string;
  let firstBuildId: string;
  const deployment = () =>
    byLabel('deployments', `ml-platform/deployment=${deploymentId}`)[0];

  async function waitForDeployment(check: (d: any) => boolean, what: string) {
    return waitFor(
      async () => {
        const d = (
          await request(server).get(api(`/deployments/${deploymentId}`))
        ).body;
        return check(d) ? d : undefined;
      },
      { what, timeoutMs: 90_000 },
    ).catch(error => {
      if (process.env.DEBUG_K8S) {
        // eslint-disable-next-line no-console
        console.log(
          JSON.stringify(
            ['deployments', 'replicasets', 'pods'].map(p =>
              k8s.list(p, NS).map(o => ({
                name: o.metadata.name,
                labels: o.metadata.labels,
                del: o.metadata.deletionTimestamp,
                spec: p === 'pods' ? undefined : o.spec.replicas,
                status: o.status,
              })),
            ),
            null,
            1,
          ),
        );
      }
      throw error;
    });
  }

  async function predict() {
    return request(server)
      .post(api('/models/default/churn/predict'))
      .send({ dataframe_records: rows });
  }

  it('deploys a build as a Deployment and Service whose pods fetch it by digest; the gateway invokes them', async () => {
    const build = await buildModel(server, 'churn');
    firstBuildId = build.id;
    // The build's package is in the bucket, not on a pod's reach.
    expect(s3.keys('mlp')).toEqual([
      expect.stringMatching(
        /^builds\/component_default_churn\/v1-.*\.tar\.gz$/,
      ),
    ]);

    const created1 = await request(server)
      .post(api('/models/default/churn/deployments'))
      .send({
        buildId: build.id,
        type: 'online',
        replicas: 2,
        minReplicas: 2,
        maxReplicas: 2,
      });
    expect(created1.status).toBe(201);
    deploymentId = created1.body.id;
    const ready = await waitForDeployment(
      d => d.status === 'ready' && d.readyReplicas === 2,
      'two ready pods',
    );
    expect(ready.replicaStatus).toHaveLength(2);

    const d = deployment();
    objectName = d.metadata.name;
    expect(d.metadata.labels).toMatchObject({
      app: 'churn',
      'ml-platform/model': 'churn',
      'ml-platform/version': '1',
      'ml-platform/deployment': deploymentId,
    });
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const selector = `ml-platform/deployment=${deploymentId}`;
    expect(byLabel('services', selector).map(s => s.metadata.name)).toEqual([
      objectName,
    ]);
    expect(byLabel('horizontalpodautoscalers', selector)).toEqual([]);
    // Backstage's Kubernetes plugin finds the pods by the entity's selector.
    const pods = byLabel('pods', 'app=churn');
    expect(pods).toHaveLength(2);
    expect(ready.replicaStatus.map((r: any) => r.url).sort()).toEqual(
      pods.map(p => `http://${p.status.podIP}:8080`).sort(),
    );

    // The init container fetched the build through the platform, digest checked.
    const fetchLog = k8s.logs
      .get(`${NS}/${pods[0].metadata.name}/fetch-model`)!
      .map(l => l.line)
      .join('\n');
    expect(fetchLog).toContain(
      `/api/ml-platform/artifacts/${build.artifactDigest}`,
    );

    const records = await predict();
    expect(records.status).toBe(200);
    records.body.predictions.forEach((p: any, i: number) =>
      expect(p.churn_probability).toBeCloseTo(expected[i].churn_probability, 6),
    );
    const v2 = await request(server)
      .post(api('/v2/models/churn/infer'))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(churnV2Body(rows)));
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ model_name: 'churn', model_version: '1' });
  });

  it('scales, autoscales between minReplicas and maxReplicas, and stops autoscaling', async () => {
    const scale = (body: object) =>
      request(server)
        .patch(api(`/deployments/${deploymentId}`))
        .send(body);
    expect(
      (await scale({ replicas: 3, minReplicas: 3, maxReplicas: 3 })).status,
    ).toBe(200);
    await waitForDeployment(
      d => d.status === 'ready' && d.readyReplicas === 3,
      'three ready pods',
    );
    expect(deployment().spec.replicas).toBe(3);

    await scale({ minReplicas: 1, maxReplicas: 5 });
    const selector = `ml-platform/deployment=${deploymentId}`;
    const hpa = await waitFor(
      async () => byLabel('horizontalpodautoscalers', selector)[0],
      { what: 'the autoscaler' },
    );
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: objectName },
      minReplicas: 1,
      maxReplicas: 5,
    });
    // The autoscaler owns replicas now: the Deployment keeps its 3.
    expect(deployment().spec.replicas).toBe(3);

    await scale({ replicas: 2, minReplicas: 2, maxReplicas: 2 });
    await waitFor(
      async () =>
        byLabel('horizontalpodautoscalers', selector).length === 0 &&
        deployment().spec.replicas === 2,
      { what: 'the autoscaler to go' },
    );
    await waitForDeployment(
      d => d.status === 'ready' && d.readyReplicas === 2,
      'two ready pods again',
    );
  });

  it('rolls out another build with new pods ready before old ones go, no failed request, and back', async () => {
    await repo.writeFile('churn/NOTES.md', 'v2\n');
    await repo.commitAndPush('Second version');
    const v2 = await buildModel(server, 'churn');
    expect(v2.version).toBe(2);

    let loading = true;
    const statuses: number[] = [];
    const load = (async () => {
      while (loading) statuses.push((await predict()).status);
    })();
    await request(server)
      .patch(api(`/deployments/${deploymentId}`))
      .send({ buildId: v2.id });
    await waitForDeployment(
      d =>
        d.status === 'ready' &&
        d.buildId === v2.id &&
        d.replicaStatus.length === 2 &&
        d.replicaStatus.every((r: any) => r.buildId === v2.id),
      'the rollout',
    );
    loading = false;
    await load;
    expect(statuses.filter(s => s !== 200)).toEqual([]);
    expect(statuses.length).toBeGreaterThan(5);
    expect(
      byLabel('pods', `ml-platform/deployment=${deploymentId}`).map(
        p => p.metadata.labels!['ml-platform/version'],
      ),
    ).toEqual(['2', '2']);
    const answer = await request(server)
      .post(api('/v2/models/churn/infer'))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(churnV2Body(rows.slice(0, 1))));
    expect(answer.body.model_version).toBe('2');

    // Roll back: the Deployment's template goes back to build v1.
    await request(server)
      .patch(api(`/deployments/${deploymentId}`))
      .send({ buildId: firstBuildId });
    await waitForDeployment(
      d =>
        d.status === 'ready' &&
        d.replicaStatus.length === 2 &&
        d.replicaStatus.every((r: any) => r.buildId === firstBuildId),
      'the rollback',
    );
    expect(deployment().metadata.labels!['ml-platform/version']).toBe('1');
  });

  it('repairs drift: a deleted Service comes back', async () => {
    const before = k8s.get('services', NS, objectName)!;
    k8s.delete('services', NS, objectName);
    const after = await waitFor(
      async () => k8s.get('services', NS, objectName),
      { what: 'the Service to come back' },
    );
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.spec.selector).toEqual(before.spec.selector);
  });

  it('reads logs from the pod log API', async () => {
    await predict();
    const logs = await waitFor(
      async () => {
        const res = await request(server).get(
          api(`/deployments/${deploymentId}/logs?tail=200`),
        );
        return res.text.includes('POST /invocations 200')
          ? res.text
          : undefined;
      },
      { what: 'the access log line in the logs' },
    );
    const pods = byLabel('pods', `ml-platform/deployment=${deploymentId}`);
    expect(pods.some(p => logs.includes(`[${p.metadata.name}]`))).toBe(true);
    // Followed: a request made now shows up in the open stream.
    const port = (server.address() as { port: number }).port;
    const controller = new AbortController();
    const res = await fetch(
      `http://127.0.0.1:${port}${api(
        `/deployments/${deploymentId}/logs?follow=true&tail=1`,
      )}`,
      { signal: controller.signal },
    );
    const reader = res.body!.getReader();
    let followed = '';
    const seen = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        followed += Buffer.from(value).toString();
        if (followed.includes('POST /v2/models/churn/infer 200')) return true;
      }
    })();
    await new Promise(r => setTimeout(r, 1500));
    await request(server)
      .post(api('/v2/models/churn/infer'))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(churnV2Body(rows.slice(0, 1))));
    const timeout = new Promise(r => setTimeout(() => r(false), 15_000));
    try {
      expect(await Promise.race([seen, timeout])).toBe(true);
    } finally {
      controller.abort();
    }
  });

  it('undeploys: Deployment, Service, Secret and pods go', async () => {
    const res = await request(server).delete(
      api(`/deployments/${deploymentId}`),
    );
    expect(res.status).toBe(204);
    const selector = `ml-platform/deployment=${deploymentId}`;
    await waitFor(
      async () =>
        ['deployments', 'services', 'secrets', 'pods', 'replicasets'].every(
          plural => byLabel(plural, selector).length === 0,
        ),
      { what: 'every object of the deployment to go', timeoutMs: 60_000 },
    );
  });

  it('sends merge patches and creates only objects valid against the Kubernetes schemas', () => {
    const patches = k8s.requests.filter(r => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(0);
    expect(new Set(patches.map(p => p.contentType))).toEqual(
      new Set(['application/merge-patch+json']),
    );
    const kinds = new Set(created().map(o => o.kind));
    expect(kinds).toEqual(
      new Set(['Deployment', 'Service', 'HorizontalPodAutoscaler', 'Secret']),
    );
    for (const object of created()) {
      expect(() => MODELS[object.kind](object).validate()).not.toThrow();
    }
  });

  it('runs a batch execution as an Indexed Job, retrying a failing index', async () => {
    const flaky = await buildModel(server, 'flaky');
    const input = path.join(tmp, 'inputs', 'customers.csv');
    await fs.promises.mkdir(path.dirname(input), { recursive: true });
    await writeChurnCsv(input, 30);
    const createdExecution = await request(server)
      .post(api('/models/default/flaky/executions'))
      .send({
        buildId: flaky.id,
        input: { type: 'path', path: input },
        output: { type: 'file', format: 'csv' },
        chunkSize: 5,
        parallelism: 2,
        maxRetries: 2,
      });
    expect(createdExecution.status).toBe(202);
    const id = createdExecution.body.id;
    const done = await waitForExecution(server, id);
    expect(done).toMatchObject({
      status: 'succeeded',
      chunksDone: 6,
      rowsDone: 30,
    });
    const chunks = (await request(server).get(api(`/executions/${id}/chunks`)))
      .body.items;
    expect(chunks.find((c: any) => c.seq === 1)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      error: expect.stringMatching(/transient failure, please retry/),
    });
    expect(chunks.filter((c: any) => c.attempts === 1)).toHaveLength(5);

    const [job] = byLabel('jobs', `ml-platform/execution=${id}`);
    expect(job.spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 6,
      parallelism: 2,
      backoffLimitPerIndex: 2,
      template: { spec: { restartPolicy: 'Never' } },
    });
    expect(job.status).toMatchObject({ succeeded: 6, failed: 1 });
    expect(() => new Job(job as any).validate()).not.toThrow();
    // Each pod wrote its predictions to the artifact store.
    expect(
      s3.keys('mlp').filter(k => k.startsWith(`executions/${id}/results/`)),
    ).toHaveLength(6);

    const result = await request(server).get(api(`/executions/${id}/result`));
    const lines = result.text.trim().split('\n');
    expect(lines).toHaveLength(31);
    const header = lines[0].split(',');
    const probability = header.indexOf('churn_probability');
    const rowId = header.indexOf('row_id');
    const reference = churnReference();
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      expect(Number(cells[probability])).toBeCloseTo(
        reference(churnRow(Number(cells[rowId]))),
        12,
      );
    }
  });

  it('cancels an execution: its Job goes with foreground propagation', async () => {
    const slow = await buildModel(server, 'slow');
    const input = path.join(tmp, 'inputs', 'slow.csv');
    await fs.promises.mkdir(path.dirname(input), { recursive: true });
    await writeChurnCsv(input, 20);
    const id = (
      await request(server)
        .post(api('/models/default/slow/executions'))
        .send({
          buildId: slow.id,
          input: { type: 'path', path: input },
          output: { type: 'file', format: 'jsonl' },
          chunkSize: 5,
          parallelism: 1,
          maxRetries: 0,
        })
    ).body.id;
    const selector = `ml-platform/execution=${id}`;
    await waitFor(
      async () =>
        byLabel('pods', selector).some(p => p.status?.phase === 'Running'),
      { what: 'a running pod', timeoutMs: 60_000 },
    );
    const cancel = await request(server).post(api(`/executions/${id}/cancel`));
    expect(cancel.status).toBe(202);
    const execution = await waitFor(
      async () => {
        const e = (await request(server).get(api(`/executions/${id}`))).body;
        return e.status === 'cancelled' ? e : undefined;
      },
      { what: 'the execution to be cancelled' },
    );
    expect(execution.chunksDone).toBeLessThan(4);
    await waitFor(
      async () =>
        byLabel('jobs', selector).length === 0 &&
        byLabel('pods', selector).length === 0,
      { what: 'the Job and its pods to go', timeoutMs: 30_000 },
    );
    const deletes = k8s.requests.filter(
      r => r.method === 'DELETE' && r.path.includes('/jobs/'),
    );
    expect(deletes.length).toBeGreaterThan(0);
    expect(
      deletes.every(r => r.query.includes('propagationPolicy=Foreground')),
    ).toBe(true);
  });
});
