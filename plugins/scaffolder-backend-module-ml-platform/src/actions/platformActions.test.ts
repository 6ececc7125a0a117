import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import mlPlatformPlugin from '@internal/plugin-ml-platform-backend';
import {
  MlPlatformService,
  mlPlatformServiceRef,
} from '@internal/plugin-ml-platform-node';
import {
  createBackendModule,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createDeployAction } from './deployModel';
import { createPublishGitAction } from './publishGit';
import { createRegisterModelAction } from './registerModel';
import { createWaitForBuildAction } from './waitForBuild';

jest.setTimeout(120_000);

const examples = path.resolve(
  resolvePackagePath('@internal/plugin-scaffolder-backend-module-ml-platform'),
  '../../examples/models',
);
const component = (name: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default' },
  spec: { type: 'ml-model', owner: 'group:default/data-science' },
});

/** The template's initiator: the actions act on her behalf. */
const initiator = mockCredentials.user('user:default/ada');

/**
 * The MlPlatformService a scaffolder module gets, as the real scaffolder
 * backend hands it to this module's actions.
 */
let platformService: MlPlatformService;
const captureService = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'ml-platform-test-probe',
  register(reg) {
    reg.registerInit({
      deps: { mlPlatform: mlPlatformServiceRef },
      async init({ mlPlatform }) {
        platformService = mlPlatform;
      },
    });
  },
});

describe('ml-platform scaffolder actions against the real platform', () => {
  let tmp: string;
  let gitRoot: string;
  let server: any;
  let stop: () => Promise<void>;
  let mlPlatform: MlPlatformService;

  /** Publishes an example model as its own repository, as the template does. */
  async function publish(example: string) {
    const workspacePath = path.join(tmp, `ws-${example}`);
    await fs.promises.cp(path.join(examples, example), workspacePath, {
      recursive: true,
      filter: src => !src.includes('__pycache__'),
    });
    const ctx = createMockActionContext({
      workspacePath,
      input: { repoName: example },
    });
    await createPublishGitAction({
      config: new ConfigReader({ mlPlatform: { git: { root: gitRoot } } }),
    }).handler(ctx);
    const outputs = Object.fromEntries((ctx.output as jest.Mock).mock.calls);
    return outputs as { repoUrl: string };
  }

  async function run(
    action: { handler: (ctx: any) => Promise<void> },
    input: object,
  ) {
    const ctx = {
      ...createMockActionContext({ input: input as any }),
      getInitiatorCredentials: async () => initiator,
    };
    await action.handler(ctx);
    return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
  }

  beforeAll(async () => {
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-actions-'));
    gitRoot = path.join(tmp, 'git');
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        captureService,
        catalogServiceMock.factory({
          entities: [component('churn'), component('broken')],
        }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: path.join(tmp, 'data'),
              git: { root: gitRoot },
              builds: { pollInterval: 0, heartbeatInterval: 200 },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
    // The real service: discovery, and a token issued on behalf of the
    // initiator for each request.
    mlPlatform = platformService;
  });

  afterAll(async () => {
    await stop?.();
    await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  it('registers, builds and deploys a published model', async () => {
    const { repoUrl } = await publish('churn');

    const registered = await run(createRegisterModelAction({ mlPlatform }), {
      entityRef: 'component:default/churn',
      gitUrl: repoUrl,
      defaultBranch: 'main',
    });
    expect(registered).toMatchObject({
      modelRef: 'component:default/churn',
      buildVersion: 1,
    });

    const built = await run(createWaitForBuildAction({ mlPlatform }), {
      buildId: registered.buildId,
    });
    expect(built).toMatchObject({
      status: 'succeeded',
      version: 1,
      artifactDigest: expect.stringMatching(/^sha256:/),
    });
    // The platform saw the initiator, not the scaffolder.
    const build = await request(server).get(
      `/api/ml-platform/builds/${registered.buildId}`,
    );
    expect(build.body.requestedBy).toBe('user:default/ada');

    const deployed = await run(createDeployAction({ mlPlatform }), {
      entityRef: 'churn',
      buildId: registered.buildId,
      replicas: 1,
    });
    expect(deployed).toMatchObject({
      status: 'ready',
      predictPath: '/api/ml-platform/models/default/churn/predict',
    });
    const deployment = await request(server).get(
      `/api/ml-platform/deployments/${deployed.deploymentId}`,
    );
    expect(deployment.body.createdBy).toBe('user:default/ada');
    const activity = await request(server).get(
      '/api/ml-platform/models/default/churn/activity',
    );
    expect(
      activity.body.items.map((a: any) => [a.action, a.actor]).reverse(),
    ).toEqual([
      ['model.register', 'user:default/ada'],
      ['build.create', 'user:default/ada'],
      ['deployment.create', 'user:default/ada'],
    ]);

    const prediction = await request(server)
      .post(deployed.predictPath)
      .send({
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
      });
    expect(prediction.status).toBe(200);
    expect(prediction.body.predictions[0].churn_probability).toBeCloseTo(
      0.951644,
      6,
    );
  });

  it("fails the wait with the build's reason", async () => {
    const { repoUrl } = await publish('broken');
    const registered = await run(createRegisterModelAction({ mlPlatform }), {
      entityRef: 'component:default/broken',
      gitUrl: repoUrl,
    });
    await expect(
      run(createWaitForBuildAction({ mlPlatform }), {
        buildId: registered.buildId,
      }),
    ).rejects.toThrow(
      /^Build v1 failed: Step test failed: the model's tests failed/,
    );
  });

  it('refuses bad input, naming the field', async () => {
    const register = createRegisterModelAction({ mlPlatform });
    await expect(run(register, { entityRef: 'not a ref!' })).rejects.toThrow(
      /^input.entityRef: expected an entity ref/,
    );
    await expect(
      run(register, { entityRef: 'group:default/x' }),
    ).rejects.toThrow('input.entityRef: group:default/x is not a component');
    await expect(
      run(register, { entityRef: 'churn', gitPath: '../up' }),
    ).rejects.toThrow(/input.gitPath: expected a relative path/);
    await expect(
      run(createWaitForBuildAction({ mlPlatform }), { buildId: 'v1' }),
    ).rejects.toThrow('input.buildId: expected the id of a build');
    await expect(
      run(createDeployAction({ mlPlatform }), { entityRef: 'churn' }),
    ).rejects.toThrow('input.buildId: is required');
    await expect(
      run(createDeployAction({ mlPlatform }), {
        entityRef: 'churn',
        buildId: '00000000-0000-4000-8000-000000000000',
      }),
    ).rejects.toThrow(/has no build 00000000/);
  });
});
