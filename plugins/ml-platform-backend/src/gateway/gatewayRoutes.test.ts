import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import { freePort } from '../__testUtils__/prometheus';
import { missingNginxPackages } from './nginx/nginxPackages';

/** A backend with `mlPlatform.gateway` as given. */
async function backendWith(gateway: object) {
  const dataDir = await fs.promises.mkdtemp(
    path.join(os.tmpdir(), 'mlp-gateway-'),
  );
  return startTestBackend({
    features: [
      mlPlatformPlugin,
      catalogServiceMock.factory({ entities: [] }),
      mockServices.rootConfig.factory({
        data: { mlPlatform: { dataDir, builds: { pollInterval: 0 }, gateway } },
      }),
    ],
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('GET gateway', () => {
  it('says the native data plane is disabled unless enabled, to signed-in callers only', async () => {
    const backend = await backendWith({});
    try {
      await request(backend.server)
        .get('/api/ml-platform/gateway')
        .set('Authorization', mockCredentials.none.header())
        .expect(401);
      const { body } = await request(backend.server)
        .get('/api/ml-platform/gateway')
        .set('Authorization', mockCredentials.user.header())
        .expect(200);
      expect(body).toEqual({ nativeDataPlane: { state: 'disabled' } });
    } finally {
      await backend.stop();
    }
  });

  it('with `enabled: auto` on a host without the Lua module, says what to install and starts nothing', async () => {
    const modulesDir = await fs.promises.mkdtemp(
      path.join(os.tmpdir(), 'mlp-no-modules-'),
    );
    const port = await freePort();
    const backend = await backendWith({
      nginx: { enabled: 'auto', modulesDir, port },
    });
    try {
      const { body } = await request(backend.server)
        .get('/api/ml-platform/gateway')
        .set('Authorization', mockCredentials.service.header())
        .expect(200);
      expect(body.nativeDataPlane.state).toBe('not-installed');
      expect(body.nativeDataPlane.reason).toMatch(
        /^needs apt-get install .*libnginx-mod-http-lua/,
      );
      expect(body.nativeDataPlane.url).toBeUndefined();
      expect(await listening(port)).toBe(false);
    } finally {
      await backend.stop();
    }
  });
});

describe('missingNginxPackages', () => {
  it('names the package of each missing part', async () => {
    const empty = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-'));
    expect(
      missingNginxPackages(
        { command: path.join(empty, 'nginx'), modulesDir: empty },
        [empty],
      ),
    ).toEqual(['nginx', 'libnginx-mod-http-lua', 'lua-cjson']);
    fs.writeFileSync(path.join(empty, 'nginx'), '');
    fs.writeFileSync(path.join(empty, 'ngx_http_lua_module.so'), '');
    fs.writeFileSync(path.join(empty, 'cjson.so'), '');
    expect(
      missingNginxPackages(
        { command: path.join(empty, 'nginx'), modulesDir: empty },
        [path.join(empty, 'missing'), empty],
      ),
    ).toEqual([]);
  });
});
