import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import { TestDataPlane } from '../__testUtils__/dataPlane';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { api, buildModel } from '../__testUtils__/platformApi';

jest.setTimeout(180_000);

const records = {
  dataframe_records: [
    {
      tenure_months: 2,
      monthly_charges: 85,
      total_charges: 170,
      contract: 'month-to-month',
      support_calls: 3,
      has_internet: true,
    },
  ],
};

// The static token another service would hold (backend.auth.externalAccess).
const SERVICE_TOKEN = 'test-service-token-0123456789';
const OTHER_PLUGIN_TOKEN = 'test-catalog-only-token-0123456789';

describe('online deployments across a backend restart, invoked by other services', () => {
  it('brings the deployment back without anyone acting, and serves service tokens', async () => {
    const repo = await ModelRepository.create({ churn: 'churn' });
    const dataDir = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-deploy-restart-'),
    );
    // The real catalog reads the model from a file; every plugin keeps its
    // database in a SQLite file that outlives the backend.
    const catalogFile = path.join(dataDir, 'catalog-info.yaml');
    await fs.promises.writeFile(
      catalogFile,
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata: { name: churn, namespace: default }',
        'spec: { type: ml-model, owner: group:default/data-science, lifecycle: experimental }',
        '',
      ].join('\n'),
    );
    const config = {
      backend: {
        database: {
          client: 'better-sqlite3',
          connection: { directory: path.join(dataDir, 'db') },
        },
      },
      catalog: {
        locations: [{ type: 'file', target: catalogFile }],
        rules: [{ allow: ['Component'] }],
        processingInterval: { seconds: 1 },
      },
      mlPlatform: {
        dataDir,
        // Test repositories are local: under the git root, as the policy wants.
        git: { root: repo.root },
        builds: { pollInterval: 0, heartbeatInterval: 200 },
        online: { reconcileInterval: 500 },
      },
    };
    const common = [
      mlPlatformPlugin,
      catalogPlugin,
      schedulerServiceFactory,
      databaseServiceFactory,
    ];

    // First life: build and deploy (mock credentials: a signed-in user).
    const first = await startTestBackend({
      features: [...common, mockServices.rootConfig.factory({ data: config })],
    });
    await waitFor(
      async () =>
        (
          await request(first.server).get(api('/models/default/churn'))
        ).status === 200,
      { what: 'the catalog to ingest the model' },
    );
    await request(first.server)
      .post(api('/models/default/churn/register'))
      .send({ gitUrl: repo.url, gitPath: 'churn', defaultBranch: 'main' });
    const build = await buildModel(first.server, 'churn');
    const deployment = (
      await request(first.server)
        .post(api('/models/default/churn/deployments'))
        .send({
          buildId: build.id,
          type: 'online',
          replicas: 2,
          minReplicas: 1,
        })
    ).body;
    const before = await waitFor(
      async () => {
        const d = (
          await request(first.server).get(api(`/deployments/${deployment.id}`))
        ).body;
        return d.status === 'ready' && d.readyReplicas === 2 ? d : undefined;
      },
      { what: 'the deployment to be ready' },
    );
    await first.stop();
    // The replicas stop with their backend.
    for (const replica of before.replicaStatus) {
      await waitFor(
        async () => {
          try {
            process.kill(replica.pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        { what: `replica ${replica.id} to exit` },
      );
    }

    // Second life, with real service-to-service auth as in production, and
    // invocations on the data plane as in the portal's backend.
    const dataPlane = new TestDataPlane();
    const second = await startTestBackend({
      features: [
        ...common,
        dataPlane.factory,
        authServiceFactory,
        httpAuthServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            ...config,
            backend: {
              ...config.backend,
              auth: {
                externalAccess: [
                  {
                    type: 'static',
                    options: { token: SERVICE_TOKEN, subject: 'fraud-service' },
                    accessRestrictions: [{ plugin: 'ml-platform' }],
                  },
                  {
                    type: 'static',
                    options: {
                      token: OTHER_PLUGIN_TOKEN,
                      subject: 'catalog-reader',
                    },
                    accessRestrictions: [{ plugin: 'catalog' }],
                  },
                ],
              },
            },
          },
        }),
      ],
    });
    dataPlane.attach(second.server);
    const auth = { Authorization: `Bearer ${SERVICE_TOKEN}` };
    const after = await waitFor(
      async () => {
        const d = (
          await request(second.server)
            .get(api(`/deployments/${deployment.id}`))
            .set(auth)
        ).body;
        return d.status === 'ready' && d.readyReplicas === 2 ? d : undefined;
      },
      { what: 'the deployment to come back after the restart' },
    );
    expect(after.buildId).toBe(build.id);
    expect(after.replicaStatus.map((r: any) => r.pid)).not.toEqual(
      before.replicaStatus.map((r: any) => r.pid),
    );

    const predicted = await request(second.server)
      .post(api('/models/default/churn/predict'))
      .set(auth)
      .send(records);
    expect(predicted.status).toBe(200);
    expect(predicted.body.predictions[0].churn_probability).toBeCloseTo(
      0.951644,
      6,
    );

    const none = await request(second.server)
      .post(api('/models/default/churn/predict'))
      .send(records);
    expect(none.status).toBe(401);
    const wrong = await request(second.server)
      .post(api('/models/default/churn/predict'))
      .set('Authorization', 'Bearer not-a-token')
      .send(records);
    expect(wrong.status).toBe(401);
    const elsewhere = await request(second.server)
      .post(api('/models/default/churn/predict'))
      .set('Authorization', `Bearer ${OTHER_PLUGIN_TOKEN}`)
      .send(records);
    expect([401, 403]).toContain(elsewhere.status);
    expect(dataPlane.served).toBe(4);

    // The caller's token only reaches ml-platform; the platform read the
    // catalog for it (the listing needs the catalog too).
    const listed = await request(second.server).get(api('/models')).set(auth);
    expect(listed.body.items.map((m: any) => m.ref)).toEqual([
      'component:default/churn',
    ]);

    await second.stop();
    await repo.remove();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });
});
