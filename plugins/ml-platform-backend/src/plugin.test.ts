import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
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

describe('model permissions', () => {
  it('says what the caller may do, with the reason when not', async () => {
    const { server } = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogServiceMock.factory({ entities }),
        mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
      ],
    });
    const res = await request(server).get(
      '/api/ml-platform/models/default/churn/permissions',
    );
    expect(res.status).toBe(200);
    expect(res.body.build).toEqual({
      allowed: false,
      reason:
        'The permission policy does not grant you ml-platform.build.create',
    });
    const denied = await request(server)
      .post('/api/ml-platform/models/default/churn/builds')
      .send({});
    expect(denied.status).toBe(403);
  });
});
