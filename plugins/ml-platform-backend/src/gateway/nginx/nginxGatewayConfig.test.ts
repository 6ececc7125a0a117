import { ConfigReader } from '@backstage/config';
import { readPlatformConfig } from '../../platformConfig';
import {
  checkNginxGatewayConfig,
  dataPlaneUrlFor,
  isLoopback,
} from './NginxGateway';

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
      whenInstalled: false,
      publicUrl: undefined,
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

  it('starts where installed with `enabled: auto`, and refuses other values', () => {
    expect(nginxConfig({ enabled: 'auto' }).whenInstalled).toBe(true);
    for (const enabled of ['yes', 'on', 1]) {
      expect(() => nginxConfig({ enabled })).toThrow(
        'mlPlatform.gateway.nginx.enabled: expected true, false or auto',
      );
    }
    expect(
      readPlatformConfig(
        new ConfigReader({
          mlPlatform: { gateway: { nginx: { enabled: false, port: 1 } } },
        }),
      ).gateway.nginx,
    ).toBeUndefined();
  });

  it.each([
    'https://user:secret@gw.example.com',
    'https://gw.example.com/api/ml-platform',
    'https://gw.example.com?x=1',
    'https://gw.example.com#x',
    'ftp://gw.example.com',
    'file:///etc/passwd',
    'gw.example.com',
    '-x',
  ])('refuses publicUrl %j, naming the key', publicUrl => {
    expect(() => checkNginxGatewayConfig(nginxConfig({ publicUrl }))).toThrow(
      'mlPlatform.gateway.nginx.publicUrl',
    );
  });

  it('takes an http(s) origin as publicUrl', () => {
    for (const publicUrl of [
      'https://gw.example.com',
      'http://10.0.0.5:7008/',
      'http://[fd00::1]:7008',
    ]) {
      expect(() =>
        checkNginxGatewayConfig(nginxConfig({ publicUrl })),
      ).not.toThrow();
    }
  });
});

describe('dataPlaneUrlFor', () => {
  const at = (host: string, publicUrl?: string) => ({
    host,
    port: 7008,
    publicUrl,
  });

  it('tells a loopback listener only to callers on this host', () => {
    expect(dataPlaneUrlFor(at('127.0.0.1'), '127.0.0.1')).toBe(
      'http://127.0.0.1:7008',
    );
    expect(dataPlaneUrlFor(at('127.0.0.1'), '::ffff:127.0.0.1')).toBe(
      'http://127.0.0.1:7008',
    );
    expect(dataPlaneUrlFor(at('::1'), '::1')).toBe('http://[::1]:7008');
    expect(dataPlaneUrlFor(at('localhost'), '::1')).toBe(
      'http://localhost:7008',
    );
    expect(dataPlaneUrlFor(at('127.0.0.1'), '10.1.2.3')).toBeUndefined();
    expect(dataPlaneUrlFor(at('127.0.0.1'), undefined)).toBeUndefined();
  });

  it('tells a wildcard listener as this host to its callers, and to no others', () => {
    expect(dataPlaneUrlFor(at('0.0.0.0'), '127.0.0.1')).toBe(
      'http://127.0.0.1:7008',
    );
    expect(dataPlaneUrlFor(at('::'), '::1')).toBe('http://[::1]:7008');
    expect(dataPlaneUrlFor(at('0.0.0.0'), '10.1.2.3')).toBeUndefined();
  });

  it('tells an address of this host to everyone, and publicUrl before all', () => {
    expect(dataPlaneUrlFor(at('10.0.0.5'), '10.1.2.3')).toBe(
      'http://10.0.0.5:7008',
    );
    expect(dataPlaneUrlFor(at('fd00::5'), '10.1.2.3')).toBe(
      'http://[fd00::5]:7008',
    );
    expect(
      dataPlaneUrlFor(at('0.0.0.0', 'https://gw.example.com/'), '10.1.2.3'),
    ).toBe('https://gw.example.com');
  });

  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(a)).toBe(true);
    }
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', '', 'x']) {
      expect(isLoopback(a)).toBe(false);
    }
  });
});
