import { ConfigReader } from '@backstage/config';
import { readPlatformConfig } from '../../platformConfig';
import { checkNginxGatewayConfig } from './NginxGateway';

function nginxConfig(nginx: Record<string, unknown>) {
  return readPlatformConfig(
    new ConfigReader({
      mlPlatform: { gateway: { nginx: { enabled: true, ...nginx } } },
    }),
  ).gateway.nginx!;
}

describe('mlPlatform.gateway.nginx', () => {
  it('has sane defaults, and is off unless enabled', () => {
    expect(nginxConfig({})).toEqual({
      command: '/usr/sbin/nginx',
      modulesDir: '/usr/lib/nginx/modules',
      host: '127.0.0.1',
      port: 7008,
      workers: 1,
    });
    expect(
      readPlatformConfig(new ConfigReader({ mlPlatform: {} })).gateway.nginx,
    ).toBeUndefined();
    expect(() => checkNginxGatewayConfig(nginxConfig({}))).not.toThrow();
  });

  it('bounds the worker count', () => {
    expect(nginxConfig({ workers: 1e9 }).workers).toBe(64);
    expect(nginxConfig({ workers: 0 }).workers).toBe(1);
  });

  it.each([
    [{ host: '-x' }, 'host'],
    [{ host: '127.0.0.1; include /etc/shadow' }, 'host'],
    [{ host: '' }, 'host'],
    [{ port: 0 }, 'port'],
    [{ port: 70000 }, 'port'],
    [{ port: 80.5 }, 'port'],
    [{ command: '-x' }, 'command'],
    [{ command: 'nginx' }, 'command'],
    [{ command: '/usr/sbin/nginx -g daemon' }, 'command'],
    [{ modulesDir: '../../tmp/modules' }, 'modulesDir'],
    [{ modulesDir: '/usr/lib/nginx/modules"; load_module /x' }, 'modulesDir'],
  ])('refuses %j, naming the key', (nginx, key) => {
    expect(() => checkNginxGatewayConfig(nginxConfig(nginx))).toThrow(
      `mlPlatform.gateway.nginx.${key}`,
    );
  });

  it('takes IP addresses and host names to listen on', () => {
    for (const host of ['0.0.0.0', '::1', 'localhost', 'gw-1.internal']) {
      expect(() =>
        checkNginxGatewayConfig(nginxConfig({ host })),
      ).not.toThrow();
    }
  });
});
