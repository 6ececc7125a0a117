import { createBackend } from '@backstage/backend-defaults';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mlPlatformPlugin } from '../plugin';
import { createMlPlatformRootHttpRouter } from './mlPlatformRootHttpRouter';

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>(r => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise(r => probe.close(r));
  return port;
}

describe('createMlPlatformRootHttpRouter', () => {
  it('answers invocations ahead of the portal HTTP stack, and routes the rest as usual', async () => {
    const port = await freePort();
    const dataDir = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-root-'),
    );
    const baseUrl = `http://127.0.0.1:${port}`;
    // A real backend: test backends bring their own root router.
    const backend = createBackend();
    for (const feature of [
      createMlPlatformRootHttpRouter(),
      mlPlatformPlugin,
      catalogServiceMock.factory({ entities: [] }),
      mockServices.auth.factory(),
      mockServices.httpAuth.factory(),
      mockServices.rootLogger.factory(),
      mockServices.rootConfig.factory({
        data: {
          backend: {
            baseUrl,
            listen: { host: '127.0.0.1', port },
            cors: { origin: 'http://portal.example' },
            database: { client: 'better-sqlite3', connection: ':memory:' },
          },
          mlPlatform: { dataDir, builds: { pollInterval: 0 } },
        },
      }),
    ]) {
      backend.add(feature);
    }
    await backend.start();
    try {
      const origin = { Origin: 'http://portal.example' };
      const invoke = await fetch(
        `${baseUrl}/api/ml-platform/v2/models/nope/infer`,
        { method: 'POST', headers: origin, body: '{}' },
      );
      expect(invoke.status).toBe(404);
      expect(await invoke.json()).toMatchObject({
        error: { message: 'No model named nope' },
      });
      // CORS for the portal's "Try it"; none of helmet's page headers.
      expect(invoke.headers.get('access-control-allow-origin')).toBe(
        'http://portal.example',
      );
      expect(invoke.headers.get('content-security-policy')).toBeNull();

      const anonymous = await fetch(
        `${baseUrl}/api/ml-platform/models/default/churn/predict`,
        {
          method: 'POST',
          headers: { Authorization: mockCredentials.none.header() },
          body: '{}',
        },
      );
      expect(anonymous.status).toBe(401);

      // Everything else goes through the default stack, helmet included.
      const doc = await fetch(`${baseUrl}/api/ml-platform/openapi.json`, {
        headers: origin,
      });
      expect(doc.status).toBe(200);
      expect(doc.headers.get('content-security-policy')).toMatch(/default-src/);
      expect(doc.headers.get('access-control-allow-origin')).toBe(
        'http://portal.example',
      );
    } finally {
      await backend.stop();
      await fs.promises.rm(dataDir, { recursive: true, force: true });
    }
  });
});
