import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { isMlPlatformChangePermission } from '@internal/plugin-ml-platform-common';
import request from 'supertest';
import { mlPlatformPlugin } from './plugin';

const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'churn',
      namespace: 'default',
      title: 'Churn',
      tags: ['tabular'],
    },
    spec: {
      type: 'ml-model',
      owner: 'data-science',
      lifecycle: 'experimental',
      system: 'ml',
    },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'sentiment', namespace: 'nlp' },
    spec: { type: 'ml-model', owner: 'user:default/ada' },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'website', namespace: 'default' },
    spec: { type: 'website', owner: 'web' },
  },
];

async function startBackend() {
  const { server } = await startTestBackend({
    features: [
      mlPlatformPlugin,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: {
          mlPlatform: {
            dataDir: '/tmp/mlp-plugin-test',
            git: { root: '/srv/git' },
          },
        },
      }),
    ],
  });
  return server;
}

describe('ml-platform backend plugin', () => {
  it('lists ml-model components joined with their platform state', async () => {
    const server = await startBackend();
    const res = await request(server).get('/api/ml-platform/models');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      {
        ref: 'component:default/churn',
        namespace: 'default',
        name: 'churn',
        title: 'Churn',
        owner: 'group:default/data-science',
        system: 'ml',
        lifecycle: 'experimental',
        tags: ['tabular'],
        platform: { registered: false, runningExecutions: 0 },
      },
      {
        ref: 'component:nlp/sentiment',
        namespace: 'nlp',
        name: 'sentiment',
        owner: 'user:default/ada',
        tags: [],
        platform: { registered: false, runningExecutions: 0 },
      },
    ]);
  });

  it('returns one model or a 404 naming it', async () => {
    const server = await startBackend();
    const one = await request(server).get(
      '/api/ml-platform/models/nlp/sentiment',
    );
    expect(one.status).toBe(200);
    expect(one.body.ref).toBe('component:nlp/sentiment');

    const missing = await request(server).get(
      '/api/ml-platform/models/default/nope',
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe(
      'No model component:default/nope in the catalog',
    );

    const notModel = await request(server).get(
      '/api/ml-platform/models/default/website',
    );
    expect(notModel.status).toBe(404);
    expect(notModel.body.error.message).toMatch(
      /component:default\/website is not a model/,
    );
  });

  it('refuses requests without credentials on every route', async () => {
    const server = await startBackend();
    for (const [method, path] of [
      ['get', '/api/ml-platform/openapi.json'],
      ['get', '/api/ml-platform/models'],
      ['get', '/api/ml-platform/models/default/churn'],
      ['post', '/api/ml-platform/models/default/churn/register'],
    ] as const) {
      const res = await request(server)
        [method](path)
        .set('Authorization', mockCredentials.none.header());
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });

  it('accepts service credentials', async () => {
    const server = await startBackend();
    const res = await request(server)
      .get('/api/ml-platform/models')
      .set('Authorization', mockCredentials.service.header());
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
  });

  it('registers a model and validates the body field by field', async () => {
    const server = await startBackend();
    const bad = await request(server)
      .post('/api/ml-platform/models/default/churn/register')
      .send({ gitPath: '../outside', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain(
      'body.gitPath: expected a relative path inside the repository',
    );
    expect(bad.body.error.message).toContain('colour');
    const unchanged = await request(server).get(
      '/api/ml-platform/models/default/churn',
    );
    expect(unchanged.body.platform.registered).toBe(false);

    const ok = await request(server)
      .post('/api/ml-platform/models/default/churn/register')
      .send({ gitUrl: 'file:///srv/git/churn.git', gitPath: 'models/churn' });
    expect(ok.status).toBe(200);
    // The activity says where from, never with credentials in the URL:
    // those are refused (they belong in integrations).
    const withSecret = await request(server)
      .post('/api/ml-platform/models/default/churn/register')
      .send({ gitUrl: 'https://bot:s3cret@git.example.com/ml/churn.git' });
    expect(withSecret.status).toBe(400);
    expect(withSecret.body.error.message).toMatch(
      /^body.gitUrl: .*credentials inside the URL are not allowed/,
    );
    expect(JSON.stringify(withSecret.body)).not.toContain('s3cret');
    await request(server)
      .post('/api/ml-platform/models/default/churn/register')
      .send({ gitUrl: 'https://git.example.com/ml/churn.git' });
    const activity = await request(server).get(
      '/api/ml-platform/models/default/churn/activity',
    );
    expect(activity.body.items.map((a: any) => a.message)).toEqual([
      'Re-registered from https://git.example.com/ml/churn.git',
      'Registered from file:///srv/git/churn.git (models/churn)',
    ]);
    expect(JSON.stringify(activity.body)).not.toContain('s3cret');
    expect(ok.body.platform).toEqual({
      registered: true,
      runningExecutions: 0,
    });

    const list = await request(server).get('/api/ml-platform/models');
    expect(list.body.items[0].platform.registered).toBe(true);

    const wrong = await request(server)
      .post('/api/ml-platform/models/default/website/register')
      .send({});
    expect(wrong.status).toBe(404);
  });

  it('refuses a build over the queued builds quota with 429 naming it', async () => {
    const { server } = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: '/tmp/mlp-plugin-test',
              git: { root: '/srv/git' },
              // Nothing runs, so builds stay queued.
              builds: { concurrency: 0, pollInterval: 0 },
              quotas: { queuedBuildsPerModel: 2 },
            },
          },
        }),
      ],
    });
    await request(server)
      .post('/api/ml-platform/models/nlp/sentiment/register')
      .send({ gitUrl: 'file:///srv/git/sentiment.git' });
    const build = (commit: string) =>
      request(server)
        .post('/api/ml-platform/models/nlp/sentiment/builds')
        .send({ commit });
    expect((await build('aaaaaaa')).status).toBe(202);
    expect((await build('bbbbbbb')).status).toBe(202);
    // Asking again for a queued commit is no new build.
    expect((await build('aaaaaaa')).status).toBe(200);
    const refused = await build('ccccccc');
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toBe(
      'Quota mlPlatform.quotas.queuedBuildsPerModel (2) exceeded: component:nlp/sentiment has 2 builds queued; wait for one to start or cancel one',
    );
    const builds = await request(server).get(
      '/api/ml-platform/models/nlp/sentiment/builds',
    );
    expect(builds.body.totalCount).toBe(2);
    const activity = await request(server).get(
      '/api/ml-platform/models/nlp/sentiment/activity?limit=1',
    );
    expect(activity.body.items[0]).toMatchObject({
      action: 'build.create',
      outcome: 'refused',
      message: refused.body.error.message,
    });
  });

  it('serves its OpenAPI document', async () => {
    const server = await startBackend();
    const res = await request(server).get('/api/ml-platform/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toContain('/models/{namespace}/{name}');
  });

  it('stops at startup when the configured artifact store is not installed', async () => {
    await expect(
      startTestBackend({
        features: [
          mlPlatformPlugin,
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: { mlPlatform: { artifacts: { type: 's3' } } },
          }),
        ],
      }),
    ).rejects.toThrow(
      /mlPlatform.artifacts.type is "s3", but no artifact store of that type is installed; available: local/,
    );
  });
});

/**
 * A permission service that lets everyone read and invoke and nobody change
 * anything, as a policy answers a user who owns no model.
 */
const readAndInvokeOnly = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: () => {
    const decide = (requests: { permission: { name: string } }[]) =>
      requests.map(r => ({
        result: isMlPlatformChangePermission(r.permission)
          ? AuthorizeResult.DENY
          : AuthorizeResult.ALLOW,
      }));
    return {
      authorize: async (requests: any) => decide(requests) as any,
      authorizeConditional: async (requests: any) => decide(requests) as any,
    };
  },
});

describe('model permissions', () => {
  it('says what the caller may do, with the reason when not, and refuses the change', async () => {
    const { server } = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogServiceMock.factory({ entities }),
        readAndInvokeOnly,
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: '/tmp/mlp-plugin-test',
              git: { root: '/srv/git' },
            },
          },
        }),
      ],
    });
    const res = await request(server).get(
      '/api/ml-platform/models/default/churn/permissions',
    );
    expect(res.status).toBe(200);
    const notOwner = {
      allowed: false,
      reason: 'user:default/mock is not an owner of component:default/churn',
    };
    expect(res.body).toEqual({
      build: notOwner,
      deploy: notOwner,
      execute: notOwner,
      register: notOwner,
      cancelBuild: notOwner,
      updateDeployment: notOwner,
      deleteDeployment: notOwner,
      cancelExecution: notOwner,
      updateAlerts: notOwner,
      invoke: { allowed: true },
      read: { allowed: true },
    });

    const denied = await request(server)
      .post('/api/ml-platform/models/default/churn/register')
      .send({ gitUrl: 'file:///srv/git/churn.git' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe(notOwner.reason);
    expect(denied.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const model = await request(server).get(
      '/api/ml-platform/models/default/churn',
    );
    expect(model.body.platform.registered).toBe(false);

    // The refusal is in the model's activity, with the request's id.
    const activity = await request(server).get(
      '/api/ml-platform/models/default/churn/activity',
    );
    expect(activity.body).toEqual({
      totalCount: 1,
      items: [
        {
          id: expect.any(String),
          modelRef: 'component:default/churn',
          action: 'model.register',
          actor: 'user:default/mock',
          outcome: 'refused',
          message: notOwner.reason,
          requestId: denied.headers['x-request-id'],
          createdAt: expect.any(String),
        },
      ],
    });
  });

  it('refuses subscriptions to a caller who may not update deployments, and names a bad field first', async () => {
    const { server } = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogServiceMock.factory({ entities }),
        readAndInvokeOnly,
        mockServices.rootConfig.factory({
          data: { mlPlatform: { dataDir: '/tmp/mlp-plugin-test' } },
        }),
      ],
    });
    const subscriptions = '/api/ml-platform/models/default/churn/subscriptions';
    const bad = await request(server)
      .post(subscriptions)
      .send({
        deploymentId: 'd1',
        topic: 'orders',
        mapping: { rows: 'items' },
      });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/body\.mapping\.rows/);
    const looping = await request(server)
      .post(subscriptions)
      .send({
        deploymentId: 'd1',
        topic: 'ml-platform.prediction',
        mapping: { rows: '$.items' },
      });
    expect(looping.status).toBe(400);
    expect(looping.body.error.message).toMatch(/body\.topic/);

    const denied = await request(server)
      .post(subscriptions)
      .send({
        deploymentId: 'd1',
        topic: 'orders',
        mapping: { rows: '$.items' },
      });
    expect(denied.status).toBe(403);
    expect((await request(server).get(subscriptions)).body).toEqual({
      items: [],
    });
    const events = await request(server).get(
      '/api/ml-platform/models/default/churn/events?status=abc',
    );
    expect(events.status).toBe(400);
    expect(events.body.error.message).toMatch(/query\.status/);
  });

  it('never lets a service change a model, whatever the permission service says', async () => {
    const { server } = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: { mlPlatform: { dataDir: '/tmp/mlp-plugin-test' } },
        }),
      ],
    });
    const asService = mockCredentials.service.header({
      onBehalfOf: mockCredentials.service('external:ci'),
      targetPluginId: 'ml-platform',
    });
    const res = await request(server)
      .get('/api/ml-platform/models/default/churn/permissions')
      .set('Authorization', asService);
    expect(res.body.read).toEqual({ allowed: true });
    expect(res.body.invoke).toEqual({ allowed: true });
    const reason =
      'service:external:ci is a service: services may read and invoke component:default/churn, never change it';
    expect(res.body.deploy).toEqual({ allowed: false, reason });

    const denied = await request(server)
      .post('/api/ml-platform/models/default/churn/register')
      .set('Authorization', asService)
      .send({});
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe(reason);
  });
});
