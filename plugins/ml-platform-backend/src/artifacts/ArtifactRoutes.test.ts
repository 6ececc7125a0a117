import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  Runtime,
  RuntimeFactory,
  RuntimeFactoryContext,
  mlPlatformRuntimeExtensionPoint,
} from '@internal/plugin-ml-platform-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';

/** A runtime that runs nothing; the test wants its factory's context. */
function idleRuntime(type: string): Runtime {
  return {
    type,
    applyOnline: async () => {},
    stopOnline: async () => {},
    getOnlineStatus: () => undefined,
    listOnline: () => [],
    readyEndpoints: () => [],
    onStatusChange: () => () => {},
    readLogs: async () => [],
    onLog: () => () => {},
    batch: { run: async () => ({ ok: true }), cancel: async () => {} },
    shutdown: async () => {},
  };
}

/** A backend module that adds a runtime through the extension point. */
function runtimeModule(
  moduleId: string,
  type: string,
  factory: RuntimeFactory,
) {
  return createBackendModule({
    pluginId: 'ml-platform',
    moduleId,
    register(env) {
      env.registerInit({
        deps: { runtimes: mlPlatformRuntimeExtensionPoint },
        async init({ runtimes }) {
          runtimes.addRuntime(type, factory);
        },
      });
    },
  });
}

describe('artifacts for runtimes on other hosts', () => {
  let dir: string;
  let server: any;
  let stop: () => Promise<void>;
  let context: RuntimeFactoryContext;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-artifacts-'));
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        runtimeModule('remote-runtime', 'remote', ctx => {
          context = ctx;
          return idleRuntime('remote');
        }),
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: {
            mlPlatform: {
              dataDir: dir,
              runtime: 'remote',
              builds: { pollInterval: 0 },
            },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
  });

  afterAll(async () => {
    await stop?.();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  /** The path of a link's URL on the test server. */
  const pathOf = (url: string) => new URL(url).pathname;

  it('serves an artifact by digest to a token scoped to that digest only', async () => {
    const file = path.join(dir, 'model.tar.gz');
    await fs.promises.writeFile(file, 'the model');
    const stored = await context.artifactStore.put('builds/m.tar.gz', file);
    const link = await context.artifactLinks.download(stored);
    expect(pathOf(link.url)).toBe(
      `/api/ml-platform/artifacts/${stored.digest}`,
    );
    expect(Date.parse(link.expiresAt)).toBeGreaterThan(Date.now());

    const ok = await request(server)
      .get(pathOf(link.url))
      .set('Authorization', `Bearer ${link.token}`)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-artifact-digest']).toBe(stored.digest);
    expect(ok.body.toString()).toBe('the model');

    // Backstage credentials alone (the test backend's user) are not a token.
    expect((await request(server).get(pathOf(link.url))).status).toBe(401);
    const other = `sha256:${'0'.repeat(64)}`;
    const forOther = await request(server)
      .get(`/api/ml-platform/artifacts/${other}`)
      .set('Authorization', `Bearer ${link.token}`);
    expect(forOther.status).toBe(403);
    expect(forOther.body.error.message).toBe(
      'The token is for another artifact',
    );
    const [prefix, payload, signature] = link.token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        uri: 'local:builds/other.tar.gz',
      }),
    ).toString('base64url');
    const tampered = await request(server)
      .get(pathOf(link.url))
      .set('Authorization', `Bearer ${prefix}.${forged}.${signature}`);
    expect(tampered.status).toBe(401);
    const expired = await context.artifactLinks.download(stored, {
      ttlMs: -1000,
    });
    const late = await request(server)
      .get(pathOf(expired.url))
      .set('Authorization', `Bearer ${expired.token}`);
    expect(late.status).toBe(401);
    expect(late.body.error.message).toBe('The artifact token has expired');
  });

  it('stores an upload under the key its token names', async () => {
    const link = await context.artifactLinks.upload(
      'executions/e1/results/chunk-0.jsonl',
    );
    const res = await request(server)
      .post(pathOf(link.url))
      .set('Authorization', `Bearer ${link.token}`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('{"row_id": 0, "prediction": 1}\n'));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      uri: 'local:executions/e1/results/chunk-0.jsonl',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      size: 31,
    });
    const file = path.join(dir, 'back.jsonl');
    await context.artifactStore.download(res.body.uri, file, res.body.digest);
    expect(await fs.promises.readFile(file, 'utf8')).toBe(
      '{"row_id": 0, "prediction": 1}\n',
    );

    // A token to read cannot write.
    const stored = await context.artifactStore.put('a/b', file);
    const read = await context.artifactLinks.download(stored);
    const refused = await request(server)
      .post(pathOf(link.url))
      .set('Authorization', `Bearer ${read.token}`)
      .send('x');
    expect(refused.status).toBe(403);
  });

  it('refuses a second runtime of a type, the built-in local one included', async () => {
    await expect(
      startTestBackend({
        features: [
          mlPlatformPlugin,
          runtimeModule('second-local', 'local', () => idleRuntime('local')),
          catalogServiceMock.factory({ entities: [] }),
          mockServices.rootConfig.factory({
            data: { mlPlatform: { dataDir: dir } },
          }),
        ],
      }),
    ).rejects.toThrow(
      'A runtime of type "local" is already registered; each type can be registered once',
    );
  });
});
