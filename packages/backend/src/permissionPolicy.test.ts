import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import {
  AuditorService,
  AuditorServiceEvent,
  AuthService,
  PermissionsService,
  coreServices,
  createBackendModule,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AuthenticationError } from '@backstage/errors';
import authPlugin from '@backstage/plugin-auth-backend';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  createProxyAuthenticator,
} from '@backstage/plugin-auth-node';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import mlPlatformPlugin from '@internal/plugin-ml-platform-backend';
import { mlPlatformPermissions } from '@internal/plugin-ml-platform-common';
import {
  MlPlatformService,
  mlPlatformServiceRef,
} from '@internal/plugin-ml-platform-node';
import {
  createAuthorizeModelAction,
  createRegisterModelAction,
} from '@internal/plugin-scaffolder-backend-module-ml-platform';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { mlPlatformPermissionPolicyModule } from './permissionPolicy';

jest.setTimeout(240_000);

const REPO = path.resolve(__dirname, '../../..');
const SERVICE_TOKEN = 'test-ml-platform-consumer-token';
const INVOKE_ONLY_TOKEN = 'test-invoke-only-token';

/**
 * Sign-in for the test: the caller names the user in a header, and the auth
 * backend signs them in from the catalog as any real provider does (their
 * token's ownership claims are the user and the groups they are a member
 * of). Only the identity provider is replaced.
 */
const testSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'test-sign-in',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'test',
          factory: createProxyAuthProviderFactory({
            authenticator: createProxyAuthenticator({
              defaultProfileTransform: async () => ({ profile: {} }),
              initialize: () => undefined,
              async authenticate({ req }) {
                const user = req.header('x-test-user');
                if (!user) throw new AuthenticationError('x-test-user missing');
                return { result: { user } };
              },
            }),
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: result.user }),
          }),
        });
      },
    });
  },
});

/** What the auditor was told, event by event, as the audit log has it. */
type AuditRecord = {
  eventId: string;
  status: 'initiated' | 'succeeded' | 'failed';
  meta?: Record<string, unknown>;
  error?: string;
};

function recordingAuditor(records: AuditRecord[]) {
  return createServiceFactory({
    service: coreServices.auditor,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }): AuditorService => ({
      async createEvent(options) {
        if (plugin.getId() !== 'ml-platform') {
          return { success: async () => {}, fail: async () => {} };
        }
        const record = (
          status: AuditRecord['status'],
          meta?: Record<string, unknown>,
          error?: Error,
        ) => {
          records.push({
            eventId: options.eventId,
            status,
            meta: { ...options.meta, ...meta },
            error: error?.message,
          });
        };
        record('initiated');
        const event: AuditorServiceEvent = {
          success: async params => record('succeeded', params?.meta),
          fail: async params => record('failed', params.meta, params.error),
        };
        return event;
      },
    }),
  });
}

/** Hands the test the services a scaffolder module gets. */
let probe: {
  auth: AuthService;
  permissions: PermissionsService;
  mlPlatform: MlPlatformService;
};
const probePlugin = createBackendPlugin({
  pluginId: 'probe',
  register(reg) {
    reg.registerInit({
      deps: {
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        mlPlatform: mlPlatformServiceRef,
      },
      async init(deps) {
        probe = deps;
      },
    });
  },
});

describe('the portal permission policy, with the real permission backend, catalog and auth', () => {
  const audit: AuditRecord[] = [];
  let tmp: string;
  let server: any;
  const tokens = new Map<string, string>();

  /** A real Backstage token of a catalog user, from the auth backend. */
  async function tokenOf(user: string) {
    if (!tokens.has(user)) {
      const res = await request(server)
        .post('/api/auth/test/refresh')
        .set('x-test-user', `user:default/${user}`);
      if (res.status !== 200) {
        throw new Error(`sign-in of ${user}: ${res.status} ${res.text}`);
      }
      tokens.set(user, res.body.backstageIdentity.token);
    }
    return tokens.get(user)!;
  }

  /** A request to the platform's API as a user, or as the service token. */
  async function as(who: string) {
    const services: Record<string, string> = {
      service: SERVICE_TOKEN,
      scorer: INVOKE_ONLY_TOKEN,
    };
    const token = services[who] ?? (await tokenOf(who));
    const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
    const url = (p: string) => `/api/ml-platform${p}`;
    return {
      get: (p: string) => auth(request(server).get(url(p))),
      post: (p: string, body?: object) =>
        auth(request(server).post(url(p))).send(body ?? {}),
      patch: (p: string, body: object) =>
        auth(request(server).patch(url(p))).send(body),
      put: (p: string, body: object) =>
        auth(request(server).put(url(p))).send(body),
      delete: (p: string) => auth(request(server).delete(url(p))),
      upload: (p: string, csv: string) =>
        auth(request(server).post(url(p)))
          .set('Content-Type', 'text/csv')
          .send(csv),
    };
  }

  async function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined>,
  ): Promise<T> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`Timed out: ${what}`);
      await new Promise(r => setTimeout(r, 200));
    }
  }

  const CSV =
    'tenure_months,monthly_charges,total_charges,contract,support_calls,has_internet\n' +
    '2,85,170,month-to-month,3,true\n' +
    '40,20,800,two-year,0,false\n';
  /** The churn example's first known answer, as MLflow records and as V2. */
  const [known] = JSON.parse(
    fs.readFileSync(
      path.join(REPO, 'examples/models/churn/expected.json'),
      'utf8',
    ),
  );
  const RECORDS = { dataframe_records: [known.input] };
  const V2_DATATYPES: Record<string, string> = {
    tenure_months: 'INT64',
    monthly_charges: 'FP64',
    total_charges: 'FP64',
    contract: 'BYTES',
    support_calls: 'INT64',
    has_internet: 'BOOL',
  };
  const V2 = {
    inputs: Object.entries(V2_DATATYPES).map(([name, datatype]) => ({
      name,
      datatype,
      shape: [1],
      data: [known.input[name]],
    })),
  };

  /** Setup steps fail with what the API said. */
  function expectStatus(res: request.Response, status: number) {
    if (res.status !== status) {
      throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
    }
  }

  /** What guest (a data-science member) made: the ids the others try to change. */
  const made: {
    buildId?: string;
    onlineId?: string;
    batchId?: string;
    executionId?: string;
  } = {};

  beforeAll(async () => {
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-policy-'));
    // A model owned by a user directly, next to the portal's own entities.
    const extra = path.join(tmp, 'extra.yaml');
    await fs.promises.writeFile(
      extra,
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata: { name: solo }',
        'spec: { type: ml-model, lifecycle: experimental, owner: user:default/barbara }',
      ].join('\n'),
    );
    const backend = await startTestBackend({
      features: [
        // Real auth: user tokens from the auth backend, the static service
        // token from backend.auth.externalAccess, plugin-to-plugin tokens.
        authServiceFactory,
        httpAuthServiceFactory,
        userInfoServiceFactory,
        permissionsServiceFactory,
        schedulerServiceFactory,
        recordingAuditor(audit),
        authPlugin,
        testSignIn,
        catalogPlugin,
        permissionPlugin,
        mlPlatformPermissionPolicyModule,
        mlPlatformPlugin,
        probePlugin,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            backend: {
              auth: {
                externalAccess: [
                  {
                    type: 'static',
                    options: {
                      token: SERVICE_TOKEN,
                      subject: 'ml-platform-consumer',
                    },
                    // As app-config.yaml gives the portal's service token.
                    accessRestrictions: [
                      {
                        plugin: 'ml-platform',
                        permission: [
                          'ml-platform.model.read',
                          'ml-platform.model.invoke',
                        ],
                      },
                    ],
                  },
                  {
                    type: 'static',
                    options: { token: INVOKE_ONLY_TOKEN, subject: 'scorer' },
                    accessRestrictions: [
                      {
                        plugin: 'ml-platform',
                        permission: 'ml-platform.model.invoke',
                      },
                    ],
                  },
                ],
              },
            },
            auth: { providers: { test: { enabled: true } } },
            permission: {
              enabled: true,
              mlPlatform: { admins: ['group:default/ml-platform-team'] },
            },
            catalog: {
              rules: [{ allow: ['Component', 'System', 'Group', 'User'] }],
              // The portal's own org (catalog-info.yaml) and example models.
              locations: [
                path.join(REPO, 'catalog-info.yaml'),
                path.join(REPO, 'examples/models/churn/catalog-info.yaml'),
                extra,
              ].map(target => ({ type: 'file', target })),
              processingInterval: { seconds: 1 },
            },
            mlPlatform: {
              dataDir: path.join(tmp, 'data'),
              builds: { pollInterval: 0, heartbeatInterval: 200 },
              quotas: { onlineReplicasPerModel: 3 },
              seedRepositories: [
                {
                  name: 'examples',
                  from: path.join(REPO, 'examples/models'),
                  models: [
                    { entityRef: 'component:default/churn', path: 'churn' },
                  ],
                },
              ],
            },
          },
        }),
      ],
    });
    server = backend.server;
    // The catalog has the org and the models once the users can sign in
    // and their groups are in their tokens.
    await waitFor('the catalog', async () => {
      const res = await request(server)
        .post('/api/auth/test/refresh')
        .set('x-test-user', 'user:default/ada');
      const ent: string[] | undefined =
        res.body?.backstageIdentity?.identity?.ownershipEntityRefs;
      if (!ent?.includes('group:default/data-science')) return undefined;
      const churn = await (await as('ada')).get('/models/default/churn');
      const solo = await (await as('ada')).get('/models/default/solo');
      return churn.status === 200 && solo.status === 200 ? true : undefined;
    });

    // guest, a data-science member (as in the embedded defaults), builds
    // and deploys churn.
    const guest = await as('guest');
    const build = await guest.post('/models/default/churn/builds');
    expectStatus(build, 202);
    made.buildId = build.body.id;
    const built = await waitFor('the build', async () => {
      const b = (await guest.get(`/builds/${made.buildId}`)).body;
      return ['succeeded', 'failed'].includes(b.status) ? b : undefined;
    });
    if (built.status !== 'succeeded') {
      throw new Error(`The build of churn failed: ${built.failureReason}`);
    }
    const online = await guest.post('/models/default/churn/deployments', {
      buildId: made.buildId,
      type: 'online',
      replicas: 1,
      maxReplicas: 2,
    });
    expectStatus(online, 201);
    made.onlineId = online.body.id;
    const batch = await guest.post('/models/default/churn/deployments', {
      buildId: made.buildId,
      type: 'batch',
    });
    expectStatus(batch, 201);
    made.batchId = batch.body.id;
    const upload = await guest.upload(
      '/models/default/churn/uploads?filename=rows.csv',
      CSV,
    );
    expectStatus(upload, 201);
    const execution = await guest.post('/models/default/churn/executions', {
      deploymentId: made.batchId,
      input: { type: 'upload', uploadId: upload.body.uploadId },
      output: { type: 'file', format: 'csv' },
    });
    expectStatus(execution, 202);
    made.executionId = execution.body.id;
    await waitFor('the deployment', async () => {
      const d = (await guest.get(`/deployments/${made.onlineId}`)).body;
      return d.status === 'ready' ? d : undefined;
    });
  });

  afterAll(async () => {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  /** Every route that changes churn, as each caller would send it. */
  const changes = () =>
    [
      ['register', 'post', '/models/default/churn/register', {}],
      ['build', 'post', '/models/default/churn/builds', {}],
      ['cancel build', 'post', `/builds/${made.buildId}/cancel`, {}],
      [
        'deploy',
        'post',
        '/models/default/churn/deployments',
        { buildId: made.buildId, type: 'online' },
      ],
      ['scale', 'patch', `/deployments/${made.onlineId}`, { replicas: 2 }],
      [
        'roll out',
        'patch',
        `/deployments/${made.onlineId}`,
        { buildId: made.buildId },
      ],
      ['undeploy', 'delete', `/deployments/${made.onlineId}`, undefined],
      [
        'set alert rules',
        'put',
        '/models/default/churn/alerts',
        {
          rules: [
            { name: 'quiet', metric: 'error_rate', op: '>', threshold: 2 },
          ],
        },
      ],
      [
        'silence an alert',
        'post',
        '/models/default/churn/alerts/churn-error-rate/silence',
        { duration: '1h' },
      ],
      [
        'lift a silence',
        'delete',
        '/models/default/churn/alerts/churn-error-rate/silence',
        undefined,
      ],
      ['upload', 'upload', '/models/default/churn/uploads?filename=x.csv', CSV],
      [
        'execute',
        'post',
        '/models/default/churn/executions',
        {
          deploymentId: made.batchId,
          input: { type: 'url', url: 'https://example.com/x.csv' },
          output: { type: 'file', format: 'csv' },
        },
      ],
      [
        'cancel execution',
        'post',
        `/executions/${made.executionId}/cancel`,
        {},
      ],
    ] as const;

  /** What a refused change must not have touched. */
  async function snapshot() {
    const guest = await as('guest');
    const [builds, deployments, executions, model, alerts] = await Promise.all([
      guest.get('/models/default/churn/builds'),
      guest.get('/models/default/churn/deployments'),
      guest.get('/models/default/churn/executions'),
      guest.get('/models/default/churn'),
      guest.get('/models/default/churn/alerts'),
    ]);
    return {
      builds: builds.body.items.map((b: any) => [b.id, b.status]),
      deployments: deployments.body.items.map((d: any) => [
        d.id,
        d.buildId,
        d.replicas,
        d.maxReplicas,
      ]),
      executions: executions.body.items.map((e: any) => e.id),
      registered: model.body.platform.registered,
      alerts: alerts.body.items.map((a: any) => [
        a.name,
        a.source,
        a.silencedUntil,
      ]),
    };
  }

  /** Each change answers 403 with `reason`, and nothing changed. */
  async function expectEveryChangeRefused(
    caller: Awaited<ReturnType<typeof as>>,
    reason: string,
  ) {
    const before = await snapshot();
    for (const [what, method, route, body] of changes()) {
      const res = await (caller as any)[method](route, body);
      expect({
        what,
        status: res.status,
        message: res.body.error?.message,
      }).toEqual({ what, status: 403, message: reason });
    }
    expect(await snapshot()).toEqual(before);
  }

  it('registers every platform permission, on catalog entities', async () => {
    const res = await request(server)
      .get('/api/ml-platform/.well-known/backstage/permissions/metadata')
      .set('Authorization', `Bearer ${await tokenOf('guest')}`);
    expect(res.status).toBe(200);
    expect(res.body.permissions.map((p: any) => p.name).sort()).toEqual(
      [
        'ml-platform.alert.update',
        'ml-platform.build.cancel',
        'ml-platform.build.create',
        'ml-platform.deployment.create',
        'ml-platform.deployment.delete',
        'ml-platform.deployment.update',
        'ml-platform.execution.cancel',
        'ml-platform.execution.create',
        'ml-platform.model.invoke',
        'ml-platform.model.read',
        'ml-platform.model.register',
      ].sort(),
    );
    expect(
      res.body.permissions.every(
        (p: any) =>
          p.type === 'resource' && p.resourceType === 'catalog-entity',
      ),
    ).toBe(true);
    expect(mlPlatformPermissions).toHaveLength(11);
  });

  it('lets a non-owner read and invoke, and refuses every change with the reason, changing nothing', async () => {
    const barbara = await as('barbara');
    for (const route of [
      '/models',
      '/models/default/churn',
      '/models/default/churn/permissions',
      '/models/default/churn/activity',
      '/models/default/churn/builds',
      `/builds/${made.buildId}`,
      `/builds/${made.buildId}/logs`,
      '/models/default/churn/deployments',
      `/deployments/${made.onlineId}`,
      `/deployments/${made.onlineId}/logs`,
      '/models/default/churn/executions',
      `/executions/${made.executionId}`,
      `/executions/${made.executionId}/chunks`,
      '/models/default/churn/alerts',
      '/models/default/churn/alerts/history',
      '/models/default/churn/alerts/prometheus-rules',
      '/models/default/churn/dashboard',
    ]) {
      const res = await barbara.get(route);
      expect({ route, status: res.status }).toEqual({ route, status: 200 });
    }
    const predict = await barbara.post(
      '/models/default/churn/predict',
      RECORDS,
    );
    expect(predict.status).toBe(200);
    expect(predict.body.predictions[0].churn_probability).toBeCloseTo(
      known.churn_probability,
      6,
    );
    expect((await barbara.post('/v2/models/churn/infer', V2)).status).toBe(200);

    const reason =
      'user:default/barbara is not an owner of component:default/churn';
    const permissions = (await barbara.get('/models/default/churn/permissions'))
      .body;
    expect(permissions.build).toEqual({ allowed: false, reason });
    expect(permissions.deploy).toEqual({ allowed: false, reason });
    expect(permissions.execute).toEqual({ allowed: false, reason });
    expect(permissions.invoke).toEqual({ allowed: true });
    expect(permissions.read).toEqual({ allowed: true });

    await expectEveryChangeRefused(barbara, reason);
  });

  it('lets the service token read and invoke, and refuses it every change', async () => {
    const service = await as('service');
    expect((await service.get('/models/default/churn')).status).toBe(200);
    expect((await service.get(`/deployments/${made.onlineId}`)).status).toBe(
      200,
    );
    expect(
      (await service.post('/models/default/churn/predict', RECORDS)).status,
    ).toBe(200);
    expect((await service.post('/v2/models/churn/infer', V2)).status).toBe(200);

    const reason =
      'service:ml-platform-consumer is a service: services may read and invoke component:default/churn, never change it';
    await expectEveryChangeRefused(service, reason);

    // A token allowed only to invoke does that, and reads nothing.
    const scorer = await as('scorer');
    expect(
      (await scorer.post('/models/default/churn/predict', RECORDS)).status,
    ).toBe(200);
    const read = await scorer.get('/models/default/churn/builds');
    expect(read.status).toBe(403);
    expect(read.body.error.message).toBe(
      'service:scorer may not read component:default/churn (ml-platform.model.read)',
    );
  });

  it('counts group membership and direct ownership, and lets admins change any model', async () => {
    // ada is in data-science, which owns churn, but does not own solo.
    const ada = await as('ada');
    const scaled = await ada.patch(`/deployments/${made.onlineId}`, {
      replicas: 2,
    });
    expect(scaled.status).toBe(200);
    expect(scaled.body.replicas).toBe(2);
    const notHers = await ada.post('/models/default/solo/register', {
      // Local clone URLs must be under the platform's git root.
      gitUrl: pathToFileURL(path.join(tmp, 'data/git/solo.git')).href,
    });
    expect(notHers.status).toBe(403);
    expect(notHers.body.error.message).toBe(
      'user:default/ada is not an owner of component:default/solo',
    );

    // barbara owns solo herself.
    const barbara = await as('barbara');
    const mine = await barbara.post('/models/default/solo/register', {
      // Local clone URLs must be under the platform's git root.
      gitUrl: pathToFileURL(path.join(tmp, 'data/git/solo.git')).href,
    });
    expect(mine.status).toBe(200);
    expect(mine.body.platform.registered).toBe(true);
    expect(
      (await barbara.get('/models/default/solo/permissions')).body.deploy,
    ).toEqual({ allowed: true });

    // alan owns nothing, but his group is the platform's admins.
    const alan = await as('alan');
    const back = await alan.patch(`/deployments/${made.onlineId}`, {
      replicas: 1,
    });
    expect(back.status).toBe(200);
    expect(back.body.replicas).toBe(1);
    expect((await alan.post('/models/default/solo/register', {})).status).toBe(
      200,
    );
  });

  it('refuses a request over a quota with 429 naming it, changing nothing', async () => {
    const guest = await as('guest');
    const res = await guest.patch(`/deployments/${made.onlineId}`, {
      replicas: 4,
      maxReplicas: 4,
    });
    expect(res.status).toBe(429);
    expect(res.body.error.message).toBe(
      'Quota mlPlatform.quotas.onlineReplicasPerModel (3) exceeded: component:default/churn would have up to 4 online replicas (maxReplicas)',
    );
    const after = (await guest.get(`/deployments/${made.onlineId}`)).body;
    expect(after.replicas).toBe(1);
    expect(after.maxReplicas).toBe(2);
  });

  it('audits every change and every refusal, and lists them as the activity', async () => {
    const guest = await as('guest');
    // The last change of the online deployment: the owner undeploys it.
    expect((await guest.delete(`/deployments/${made.onlineId}`)).status).toBe(
      204,
    );
    const cancel = await guest.post(`/executions/${made.executionId}/cancel`);
    expect(cancel.status).toBe(202);
    const cancelBuild = await guest.post(`/builds/${made.buildId}/cancel`);
    expect(cancelBuild.status).toBe(202);

    const done = (eventId: string, actor: string) =>
      audit.filter(
        e =>
          e.eventId === eventId &&
          e.status === 'succeeded' &&
          e.meta?.actor === actor &&
          e.meta?.modelRef === 'component:default/churn',
      );
    expect(done('build-create', 'user:default/guest')).toHaveLength(1);
    expect(done('deployment-create', 'user:default/guest')).toHaveLength(2);
    expect(done('execution-create', 'user:default/guest')).toHaveLength(1);
    expect(done('deployment-scale', 'user:default/ada')).toHaveLength(1);
    expect(done('deployment-scale', 'user:default/alan')).toHaveLength(1);
    expect(done('deployment-delete', 'user:default/guest')).toHaveLength(1);
    expect(done('execution-cancel', 'user:default/guest')).toHaveLength(1);
    expect(done('build-cancel', 'user:default/guest')).toHaveLength(1);
    expect(
      audit.filter(
        e =>
          e.eventId === 'model-register' &&
          e.status === 'succeeded' &&
          e.meta?.modelRef === 'component:default/solo',
      ),
    ).toHaveLength(2);
    // Each refusal is a failed event with the reason and the request's id.
    const refused = audit.filter(
      e => e.status === 'failed' && e.meta?.actor === 'user:default/barbara',
    );
    expect(refused.map(e => e.eventId)).toEqual([
      'model-register',
      'build-create',
      'build-cancel',
      'deployment-create',
      'deployment-scale',
      'deployment-rollout',
      'deployment-delete',
      'alert-update',
      'alert-update',
      'alert-update',
      'execution-create',
      'execution-cancel',
    ]);
    for (const e of refused) {
      expect(e.error).toBe(
        'user:default/barbara is not an owner of component:default/churn',
      );
      expect(e.meta).toMatchObject({
        outcome: 'refused',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    }
    expect(
      audit.filter(
        e =>
          e.status === 'failed' &&
          e.meta?.actor === 'service:ml-platform-consumer',
      ),
    ).toHaveLength(12);

    // The activity pages through the same history, newest first.
    const page1 = (await guest.get('/models/default/churn/activity?limit=3'))
      .body;
    expect(page1.items.map((a: any) => [a.action, a.actor, a.outcome])).toEqual(
      [
        ['build.cancel', 'user:default/guest', 'succeeded'],
        ['execution.cancel', 'user:default/guest', 'succeeded'],
        ['deployment.delete', 'user:default/guest', 'succeeded'],
      ],
    );
    expect(page1.items[2]).toMatchObject({
      subjectId: made.onlineId,
      message: 'Undeployed the online deployment',
    });
    const all = (await guest.get('/models/default/churn/activity?limit=200'))
      .body;
    expect(page1.totalCount).toBe(all.totalCount);
    const page2 = (
      await guest.get('/models/default/churn/activity?limit=3&offset=3')
    ).body;
    expect(page2.items).toEqual(all.items.slice(3, 6));
    expect(all.items.filter((a: any) => a.outcome === 'refused').length).toBe(
      12 + 12 + 1,
    );
  });

  it('runs the scaffolder actions on behalf of the initiator: nobody creates a model for a group they are not in', async () => {
    const credentialsOf = async (user: string) =>
      probe.auth.authenticate(await tokenOf(user));
    const run = async (
      action: { handler: (ctx: any) => Promise<void> },
      input: object,
      user: string,
    ) => {
      const ctx = {
        ...createMockActionContext({ input: input as any }),
        getInitiatorCredentials: () => credentialsOf(user),
      };
      await action.handler(ctx);
      return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
    };
    const authorize = createAuthorizeModelAction({
      permissions: probe.permissions,
    });
    const newModel = {
      entityRef: 'component:default/fraud-score',
      owner: 'group:default/data-science',
    };
    await expect(run(authorize, newModel, 'barbara')).rejects.toThrow(
      'user:default/barbara is not an owner of component:default/fraud-score: it would be owned by group:default/data-science',
    );
    await expect(run(authorize, newModel, 'ada')).resolves.toEqual({});
    await expect(run(authorize, newModel, 'alan')).resolves.toEqual({});
    await expect(
      run(authorize, { ...newModel, owner: 'user:default/barbara' }, 'barbara'),
    ).resolves.toEqual({});

    // Registering through the platform's API, with a token issued on behalf
    // of the initiator: the policy decides as for the user themself.
    const register = createRegisterModelAction({
      mlPlatform: probe.mlPlatform,
    });
    await expect(
      run(
        register,
        { entityRef: 'component:default/churn', build: false },
        'barbara',
      ),
    ).rejects.toThrow(
      'user:default/barbara is not an owner of component:default/churn',
    );
    const registered = await run(
      register,
      {
        entityRef: 'component:default/churn',
        gitUrl: pathToFileURL(path.join(tmp, 'data/git/examples.git')).href,
        gitPath: 'churn',
      },
      'ada',
    );
    expect(registered.modelRef).toBe('component:default/churn');
    const build = (
      await (await as('guest')).get(`/builds/${registered.buildId}`)
    ).body;
    expect(build.requestedBy).toBe('user:default/ada');
  });
});
