import { InputError } from '@backstage/errors';
import {
  ExecutionInput,
  ExecutionOutput,
} from '@internal/plugin-ml-platform-common';
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BatchConnections } from './BatchConnections';
import { validateTableName } from './io';
import { Uploads } from './Uploads';

/**
 * Addresses a URL input may not reach unless its host is allowed:
 * loopback, link-local (cloud metadata), private and other non-public
 * ranges, where internal services live.
 */
const NON_PUBLIC = (() => {
  const list = new net.BlockList();
  for (const [address, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const) {
    list.addSubnet(address, prefix, 'ipv4');
  }
  for (const [address, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const) {
    list.addSubnet(address, prefix, 'ipv6');
  }
  return list;
})();

/** Whether an IP address is loopback, link-local, private or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NON_PUBLIC.check(mapped[1], 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Checks where batch executions read and write, when they are created (an
 * execution, or a batch deployment with a schedule) and again when they
 * run: uploads that exist, server paths under `allowedInputRoots` with
 * symlinks resolved, URL hosts that resolve to public addresses unless
 * `allowedUrlHosts` names them, configured connections, valid tables.
 * Errors name the field.
 */
export class ExecutionInputs {
  constructor(
    private readonly options: {
      uploads: Uploads;
      connections: BatchConnections;
      /** Resolved directories. */
      allowedInputRoots: string[];
      /** Lower-case host names or addresses; `*.example.com` for sub-domains. */
      allowedUrlHosts: string[];
    },
  ) {}

  async checkInput(
    modelRef: string,
    input: ExecutionInput,
    field = 'body.input',
  ): Promise<void> {
    switch (input.type) {
      case 'upload':
        await this.options.uploads.resolve(
          modelRef,
          input.uploadId,
          `${field}.uploadId`,
        );
        return;
      case 'path':
        await this.resolvePath(input.path, `${field}.path`);
        return;
      case 'url':
        await this.checkUrl(input.url, `${field}.url`);
        return;
      case 'sql':
        this.options.connections.get(input.connection, `${field}.connection`);
        return;
      default:
        throw new InputError(
          `${field}.type: expected upload, path, url or sql`,
        );
    }
  }

  checkOutput(output: ExecutionOutput, field = 'body.output') {
    if (output.type === 'table') {
      this.options.connections.get(output.connection, `${field}.connection`);
      try {
        validateTableName(output.table);
      } catch (error) {
        throw new InputError(`${field}.table: ${(error as Error).message}`);
      }
    }
  }

  /**
   * The real path of a server path input: a regular file that is, with
   * every symlink resolved, under an allowed root.
   */
  async resolvePath(input: string, field: string): Promise<string> {
    const roots = this.options.allowedInputRoots;
    const notAllowed = () =>
      new InputError(
        `${field}: ${input} is not under a directory in mlPlatform.batch.allowedInputRoots${
          roots.length ? ` (${roots.join(', ')})` : ' (none configured)'
        }`,
      );
    const inside = (p: string, list: string[]) =>
      list.some(root => p === root || p.startsWith(`${root}${path.sep}`));
    const resolved = path.resolve(input);
    if (!inside(resolved, roots)) throw notAllowed();
    let real: string;
    try {
      real = await fs.promises.realpath(resolved);
    } catch {
      throw new InputError(`${field}: ${input} does not exist`);
    }
    const realRoots = await Promise.all(
      roots.map(r => fs.promises.realpath(r).catch(() => r)),
    );
    if (!inside(real, realRoots)) throw notAllowed();
    const stat = await fs.promises.stat(real);
    if (!stat.isFile()) {
      throw new InputError(`${field}: ${input} is not a file`);
    }
    return real;
  }

  /**
   * Refuses a URL input unless it is http(s) and its host resolves only to
   * public addresses, or is named in `mlPlatform.batch.allowedUrlHosts`.
   */
  async checkUrl(url: string, field: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InputError(`${field}: expected an http(s) URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InputError(`${field}: expected an http(s) URL`);
    }
    if (parsed.username || parsed.password) {
      throw new InputError(
        `${field}: credentials inside the URL are not allowed; configure them in integrations`,
      );
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (this.hostAllowed(host)) return;
    let addresses: string[];
    if (net.isIP(host)) {
      addresses = [host];
    } else {
      try {
        addresses = (
          await dns.promises.lookup(host, { all: true, verbatim: true })
        ).map(a => a.address);
      } catch {
        throw new InputError(`${field}: cannot resolve the host ${host}`);
      }
    }
    const blocked = addresses.find(isNonPublicAddress);
    if (blocked) {
      throw new InputError(
        `${field}: ${host} is ${
          blocked === host ? 'a' : `at ${blocked}, a`
        } loopback, link-local or private address; add it to mlPlatform.batch.allowedUrlHosts to read from it`,
      );
    }
  }

  private hostAllowed(host: string): boolean {
    return this.options.allowedUrlHosts.some(allowed =>
      allowed.startsWith('*.')
        ? host.endsWith(allowed.slice(1))
        : host === allowed,
    );
  }
}
