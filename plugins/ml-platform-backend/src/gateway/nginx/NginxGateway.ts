import {
  HttpAuthService,
  LoggerService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError } from '@backstage/errors';
import type { Request } from 'express';
import { principalRef } from '../../access/ModelAccess';
import { assertPathParameter } from '../../http/requestGuards';
import { NginxGatewayConfig } from '../../platformConfig';
import { errorMeta } from '../../util/logging';
import { Gateway } from '../Gateway';
import { InvocationRoutes } from '../InvocationRoutes';
import { statusOf } from '../errors';
import { CallLogReader, LoggedCall, forwardedInvocation } from './CallLog';
import { NativePeers } from './NativePeers';
import { renderNginxConfig } from './nginxConfig';
import { missingNginxPackages } from './nginxPackages';

/** Where mlp_gateway.lua is, in the source tree and in the built package. */
const LUA_DIR = resolvePackagePath(
  '@internal/plugin-ml-platform-backend',
  'nginx',
);

/** How often the replicas' addresses are put and the call log is read. */
const TICK_MS = 200;
/** A grant (a caller allowed to invoke a model) is remembered this long at most. */
const GRANT_TTL_MS = 10_000;
/** The call log is rotated past this size. */
const ROTATE_BYTES = 64 * 1024 * 1024;
/** A rotated log is read for this long after nginx reopened its log. */
const ROTATED_DRAIN_MS = 2_000;
const RESTART_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export interface NginxGatewayOptions {
  config: NginxGatewayConfig;
  /** `mlPlatform.gateway`'s bounds, which the native path checks alike. */
  limits: {
    maxBodyBytes: number;
    maxElements: number;
    maxJsonDepth: number;
    timeoutMs: number;
  };
  /** The call log and the configuration live in `<dataDir>/gateway-nginx`. */
  dataDir: string;
  gateway: Gateway;
  invocations: InvocationRoutes;
  httpAuth: HttpAuthService;
  logger: LoggerService;
}

/** What the native data plane is doing, for `GET gateway`. */
export type NativeDataPlaneState =
  | 'starting'
  | 'running'
  | 'restarting'
  | 'not-installed'
  | 'failed'
  | 'stopped';

export interface NativeDataPlaneStatus {
  state: NativeDataPlaneState;
  /** Why it is not running (what to install, nginx's error). */
  reason?: string;
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback: this host. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return (
    address === '::1' ||
    address === 'localhost' ||
    (net.isIPv4(v4) && v4.startsWith('127.'))
  );
}

/**
 * Where a caller at `callerAddress` reaches the data plane: `publicUrl` if
 * set; a loopback or wildcard listener only for callers on this host (a
 * caller elsewhere could not reach what it would be told).
 */
export function dataPlaneUrlFor(
  config: Pick<NginxGatewayConfig, 'host' | 'port' | 'publicUrl'>,
  callerAddress: string | undefined,
): string | undefined {
  const { host, port, publicUrl } = config;
  if (publicUrl) return new URL(publicUrl).origin;
  if (host === '0.0.0.0' || host === '::') {
    if (!isLoopback(callerAddress)) return undefined;
    return host === '::' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`;
  }
  if (isLoopback(host) && !isLoopback(callerAddress)) return undefined;
  return `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

const HOST_NAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An absolute, normalized path nginx's configuration can quote as is. */
function isPlainAbsolutePath(value: string): boolean {
  return (
    path.isAbsolute(value) &&
    path.normalize(value) === value &&
    !/[\s"'$;\\{}]/.test(value)
  );
}

/**
 * What to install when nginx could not start because a Debian package the
 * data plane needs is missing ('' otherwise): Lua's errors name a module,
 * not the package that holds it.
 */
export function missingPackageHint(nginxOutput: string): string {
  if (/module 'cjson(\.safe)?' not found/.test(nginxOutput)) {
    return ' (mlp_gateway.lua needs lua-cjson: apt-get install lua-cjson)';
  }
  if (
    /dlopen\(\) "[^"]*(ngx_http_lua|ndk_http)_module\.so" failed/.test(
      nginxOutput,
    )
  ) {
    return ' (the Lua module is missing: apt-get install libnginx-mod-http-lua)';
  }
  return '';
}

/**
 * Refuses what would not make a sound nginx command line or configuration:
 * errors name the key. (Admins set these, but a typo should not become an
 * option or a directive.)
 */
export function checkNginxGatewayConfig(config: NginxGatewayConfig) {
  const key = 'mlPlatform.gateway.nginx';
  const { host, port, command, modulesDir, publicUrl } = config;
  if (!net.isIP(host) && !HOST_NAME.test(host)) {
    throw new Error(`${key}.host: "${host}" is not an IP address or host name`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${key}.port: ${port} is not a port (1-65535)`);
  }
  if (!isPlainAbsolutePath(command)) {
    throw new Error(
      `${key}.command: "${command}" is not an absolute path to the nginx program`,
    );
  }
  if (!isPlainAbsolutePath(modulesDir)) {
    throw new Error(
      `${key}.modulesDir: "${modulesDir}" is not an absolute, normalized directory`,
    );
  }
  if (publicUrl !== undefined && !isOrigin(publicUrl)) {
    throw new Error(
      `${key}.publicUrl: "${publicUrl}" is not an http(s) origin without credentials, path or query (e.g. https://gw.example.com)`,
    );
  }
}

/** `http(s)://host[:port]`: what clients put `/api/ml-platform/...` after. */
function isOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  // The origin leaves out credentials, a path, a query and a fragment: a
  // value with any of them differs from it.
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.origin === value.replace(/\/$/, '')
  );
}

/** `pid`'s child processes (Linux: /proc/<pid>/task/<pid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Kills those of `pids` that are still nginx workers (a pid can be reused):
 * the workers of a master that was killed keep its port.
 */
function killWorkers(pids: number[]) {
  for (const pid of pids) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('nginx: worker process')) {
        process.kill(pid, 'SIGKILL');
      }
    } catch {
      // Gone already.
    }
  }
}

/** Where a call log comes in reading order. */
function logOrder(name: string): number {
  return name === 'calls.log' ? Infinity : Number(name.split('.')[1]);
}

/** A field of a tab-separated line: no tabs or line breaks. */
function field(value: string | undefined): string {
  return (value ?? '').replace(/[\t\r\n]/g, ' ');
}

/**
 * The gateway's native data plane: a supervised nginx with mlp_gateway.lua
 * in front of the replicas, on its own port. nginx forwards a call itself
 * when the backend recently authorized its caller for the model, its body
 * passes the gateway's checks and a replica is ready; every other call goes
 * to the backend's gateway through a private socket and is answered exactly
 * as on the portal's port. The backend puts the replicas' addresses into
 * nginx every 200 ms and reads nginx's call log at the same pace: each
 * native call reaches the gateway's observers (metrics, prediction events)
 * as a call of its own would, off the call path.
 */
export class NginxGateway {
  private readonly stateDir: string;
  private readonly callLog: string;
  private readonly offsetFile: string;
  private readonly peers = new NativePeers();
  private runDir?: string;
  private backend?: http.Server;
  private nginx?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private timer?: NodeJS.Timeout;
  private tick?: Promise<void>;
  private reader?: CallLogReader;
  private rotated?: { reader: CallLogReader; at: number };
  private savedOffset = -1;
  private current: NativeDataPlaneStatus = { state: 'stopped' };
  /** nginx's workers, as last seen (read every tick). */
  private workers: number[] = [];
  /**
   * A backend that exits without stop() (an uncaught error) takes nginx
   * along; a killed one's is stopped at the next start.
   */
  private readonly onProcessExit = () => {
    if (this.nginx?.pid) {
      try {
        this.nginx.kill('SIGKILL');
      } catch {
        // Gone already.
      }
    }
    killWorkers(this.workers);
  };

  constructor(private readonly options: NginxGatewayOptions) {
    this.stateDir = path.join(options.dataDir, 'gateway-nginx');
    this.callLog = path.join(this.stateDir, 'calls.log');
    this.offsetFile = path.join(this.stateDir, 'calls.offset');
  }

  /** Where callers reach the native data plane. */
  get url(): string {
    const { host, port } = this.options.config;
    return `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  }

  /** Its state, and why it is not running. */
  status(): NativeDataPlaneStatus {
    return { ...this.current };
  }

  /** Where a caller at `callerAddress` reaches the data plane, when it runs. */
  urlFor(callerAddress: string | undefined): string | undefined {
    if (this.current.state !== 'running') return undefined;
    return dataPlaneUrlFor(this.options.config, callerAddress);
  }

  /**
   * Starts nginx. With `enabled: auto` on a host without nginx, its Lua
   * module or lua-cjson, it says what to install and does not start.
   */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    checkNginxGatewayConfig(config);
    if (config.whenInstalled) {
      const missing = missingNginxPackages(config);
      if (missing.length > 0) {
        this.current = {
          state: 'not-installed',
          reason: `needs apt-get install ${missing.join(' ')}`,
        };
        logger.info(
          `The native data plane (mlPlatform.gateway.nginx.enabled: auto) is off: it ${this.current.reason}. Invocations are served on the portal's port.`,
        );
        return;
      }
    }
    this.current = { state: 'starting' };
    process.once('exit', this.onProcessExit);
    try {
      await this.startNginx();
    } catch (error) {
      this.current = { state: 'failed', reason: String(error) };
      throw error;
    }
    this.current = { state: 'running' };
  }

  private async startNginx(): Promise<void> {
    const { logger } = this.options;
    fs.mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    this.stopLeftoverNginx();
    await this.recordLeftoverCalls();
    // Unix socket paths are short (108 bytes): not under the data dir.
    this.runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-nginx-'));
    fs.chmodSync(this.runDir, 0o700);
    this.backend = http.createServer((req, res) => void this.serve(req, res));
    // No keep-alive timeout shorter than nginx's idle upstream connections.
    this.backend.keepAliveTimeout = 120_000;
    const socket = path.join(this.runDir, 'backend.sock');
    await new Promise<void>((resolve, reject) => {
      this.backend!.once('error', reject);
      this.backend!.listen(socket, () => resolve());
    });
    fs.chmodSync(socket, 0o600);
    fs.writeFileSync(this.confPath, this.render(socket));
    this.reader = new CallLogReader(this.callLog);
    await this.spawnNginx();
    this.schedule();
    logger.info(
      `Invocations are also served by nginx on ${this.url} (mlPlatform.gateway.nginx)`,
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.current = { state: 'stopped' };
    process.removeListener('exit', this.onProcessExit);
    clearTimeout(this.timer);
    await this.tick;
    const nginx = this.nginx;
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise(resolve => nginx.once('exit', resolve));
      // Graceful: calls under way finish and the log buffer is written.
      nginx.kill('SIGQUIT');
      const timeout = setTimeout(() => nginx.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timeout);
    }
    await this.readCalls();
    await this.drainRotated(true);
    await this.reader?.close();
    // Every line was recorded: the next start begins a new log.
    fs.rmSync(this.callLog, { force: true });
    fs.rmSync(this.offsetFile, { force: true });
    const backend = this.backend;
    if (backend) await new Promise(resolve => backend.close(resolve));
    if (this.runDir) fs.rmSync(this.runDir, { recursive: true, force: true });
  }

  /** nginx's own log (kept with the call log, for after it stopped). */
  private get errorLog() {
    return path.join(this.stateDir, 'error.log');
  }

  /** Written by nginx once its sockets are bound; removed when it stops. */
  private get pidFile() {
    return path.join(this.stateDir, 'nginx.pid');
  }

  private get confPath() {
    return path.join(this.stateDir, 'nginx.conf');
  }

  private render(backendSocket: string): string {
    const { config, limits } = this.options;
    return renderNginxConfig({
      listen: { host: config.host, port: config.port },
      workers: config.workers,
      // Started as root, nginx would run its workers as nobody, who cannot
      // reach the backend's socket: they run as the backend does.
      user: process.getuid?.() === 0 ? os.userInfo().username : undefined,
      modulesDir: config.modulesDir,
      runDir: this.runDir!,
      pidFile: this.pidFile,
      errorLog: this.errorLog,
      callLog: this.callLog,
      backendSocket,
      luaDir: LUA_DIR,
      maxBodyBytes: limits.maxBodyBytes,
      maxElements: limits.maxElements,
      maxJsonDepth: limits.maxJsonDepth,
      timeoutMs: limits.timeoutMs,
      answerCapBytes: 1024 * 1024,
    });
  }

  /** An nginx a crashed backend left running would hold the port. */
  private stopLeftoverNginx() {
    const pidFile = this.pidFile;
    let pid: number;
    try {
      pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    } catch {
      return;
    }
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('nginx') && cmdline.includes(this.confPath)) {
        process.kill(pid, 'SIGTERM');
        this.options.logger.warn(
          `Stopped the native gateway's nginx (pid ${pid}) a previous start left running`,
        );
      }
    } catch {
      // Not running any more.
    }
    fs.rmSync(pidFile, { force: true });
  }

  /** Calls a crashed backend had not read yet are recorded now. */
  private async recordLeftoverCalls() {
    let offset = 0;
    try {
      offset = Number(fs.readFileSync(this.offsetFile, 'utf8')) || 0;
    } catch {
      // No offset kept: read the log from its start.
    }
    const leftovers = fs
      .readdirSync(this.stateDir)
      .filter(name => /^calls(\.\d+)?\.log$/.test(name))
      // Rotated ones (calls.<time>.log) in order, then the current one.
      .sort((a, b) => logOrder(a) - logOrder(b));
    for (const name of leftovers) {
      const file = path.join(this.stateDir, name);
      const reader = new CallLogReader(file, name === 'calls.log' ? offset : 0);
      let count = 0;
      await reader.read(call => {
        count++;
        this.record(call);
      }, this.corrupt);
      await reader.close();
      fs.rmSync(file, { force: true });
      if (count > 0) {
        this.options.logger.info(
          `Recorded ${count} native gateway calls a previous start had not read (${name})`,
        );
      }
    }
    fs.rmSync(this.offsetFile, { force: true });
  }

  private async spawnNginx(): Promise<void> {
    const { config } = this.options;
    const errorLog = this.errorLog;
    // The last start's log stays beside the new one.
    if (fs.existsSync(errorLog)) fs.renameSync(errorLog, `${errorLog}.1`);
    // An nginx that was killed, or failed to bind its port, leaves its
    // control socket's file behind, and no later nginx could bind it.
    fs.rmSync(path.join(this.runDir!, 'control.sock'), { force: true });
    const child = spawn(
      config.command,
      ['-p', this.runDir!, '-c', this.confPath, '-e', errorLog],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.nginx = child;
    let stderr = '';
    child.stderr?.on('data', chunk => {
      stderr = (stderr + String(chunk)).slice(-4000);
    });
    const failure = () => {
      let log = '';
      try {
        log = fs.readFileSync(errorLog, 'utf8').slice(-2000);
      } catch {
        // nginx did not get as far as its error log.
      }
      return `${stderr}${log}`.trim();
    };
    let failed: Error | undefined;
    child.once('error', error => {
      failed = error;
    });
    child.once('exit', code => {
      const output = failure();
      failed = new Error(
        `nginx (${config.command}) exited with ${code}${missingPackageHint(
          output,
        )}: ${output}`,
      );
    });
    await this.waitForListening(child, () => failed !== undefined);
    if (failed) throw failed;
    this.workers = childrenOf(child.pid!);
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      killWorkers(this.workers);
      this.restartLater(`nginx exited (${signal ?? code}): ${failure()}`);
    });
  }

  /** Restarts nginx with backoff, until it runs again or the backend stops. */
  private restartLater(reason: string) {
    const delay =
      RESTART_BACKOFF_MS[
        Math.min(this.restarts, RESTART_BACKOFF_MS.length - 1)
      ];
    this.restarts++;
    this.current = { state: 'restarting', reason };
    this.options.logger.error(
      `The native gateway's ${reason}; restarting it in ${delay / 1000} s`,
    );
    setTimeout(() => {
      if (this.stopping) return;
      this.spawnNginx().then(
        () => {
          this.restarts = 0;
          if (!this.stopping) this.current = { state: 'running' };
        },
        error => {
          if (!this.stopping)
            this.restartLater(`nginx did not restart: ${error}`);
        },
      );
    }, delay).unref();
  }

  /**
   * Until this nginx listens, or `failed()` says it will not. nginx writes
   * its pid file once it bound its sockets, so a port some other process
   * holds is not taken for nginx's (nginx exits when it cannot bind).
   */
  private async waitForListening(
    child: ChildProcess,
    failed: () => boolean,
  ): Promise<void> {
    const { host, port } = this.options.config;
    const pidFile = this.pidFile;
    const deadline = Date.now() + 10_000;
    for (;;) {
      let ours = false;
      try {
        ours = fs.readFileSync(pidFile, 'utf8').trim() === String(child.pid);
      } catch {
        // Not written yet.
      }
      const open =
        ours &&
        (await new Promise<boolean>(resolve => {
          const socket = net.connect(port, host, () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }));
      if (open || failed()) return;
      if (Date.now() > deadline) {
        throw new Error(`nginx did not listen on ${host}:${port} within 10 s`);
      }
      await new Promise(r => setTimeout(r, 20));
    }
  }

  private schedule() {
    this.timer = setTimeout(() => {
      this.tick = this.runTick().finally(() => {
        if (!this.stopping) this.schedule();
      });
    }, TICK_MS);
    this.timer.unref();
  }

  private async runTick() {
    const nginx = this.nginx;
    if (nginx?.pid && nginx.exitCode === null && nginx.signalCode === null) {
      this.workers = childrenOf(nginx.pid);
    }
    try {
      await this.putRoutes();
    } catch (error) {
      // nginx restarting: the next tick puts them again.
      this.options.logger.warn(
        'native gateway routes not put',
        errorMeta(error),
      );
    }
    try {
      await this.readCalls();
      await this.drainRotated(false);
      await this.rotateIfLarge();
    } catch (error) {
      this.options.logger.error(
        "The native gateway's call log could not be read",
        errorMeta(error),
      );
    }
  }

  /** Puts the replicas' addresses into nginx; reads its calls under way. */
  private async putRoutes() {
    const routes = await this.options.gateway.readyRoutes();
    // All at once: names no route asks for any more are forgotten.
    const allPeers = this.peers.peersOf(routes.flatMap(r => r.urls));
    const lines: string[] = [];
    let next = 0;
    for (const { deployment, urls } of routes) {
      const peers = allPeers.slice(next, next + urls.length);
      next += urls.length;
      // A deployment with a replica nginx cannot reach natively goes
      // through the backend's gateway entirely.
      if (peers.length === 0 || peers.some(p => !p)) continue;
      lines.push(
        `${deployment.id}\t${field(deployment.buildId)}\t${peers.join(',')}`,
      );
    }
    const body = lines.join('\n');
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          socketPath: path.join(this.runDir!, 'control.sock'),
          path: '/routes',
          method: 'POST',
          headers: { 'Content-Length': Buffer.byteLength(body) },
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', chunk => {
            text += chunk;
          });
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(text)
              : reject(new Error(`nginx answered ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const inFlight = new Map<string, number>();
    for (const line of answer.split('\n')) {
      const [id, calls] = line.split('\t');
      if (id && Number(calls) > 0) inFlight.set(id, Number(calls));
    }
    this.options.gateway.setNativeInFlight(inFlight);
  }

  private async readCalls() {
    const reader = this.reader;
    if (!reader) return;
    await reader.read(call => this.record(call), this.corrupt);
    if (reader.offset !== this.savedOffset) {
      // Where a backend that crashes now would start reading again.
      await fs.promises.writeFile(this.offsetFile, String(reader.offset));
      this.savedOffset = reader.offset;
    }
  }

  private async rotateIfLarge() {
    const reader = this.reader;
    if (!reader || this.rotated || reader.offset < ROTATE_BYTES) return;
    const to = path.join(this.stateDir, `calls.${Date.now()}.log`);
    fs.renameSync(this.callLog, to);
    // nginx writes what it buffered, then opens a new calls.log.
    if (this.nginx?.pid) process.kill(this.nginx.pid, 'SIGUSR1');
    this.rotated = { reader, at: Date.now() };
    this.reader = new CallLogReader(this.callLog);
    this.savedOffset = -1;
  }

  private async drainRotated(last: boolean) {
    const rotated = this.rotated;
    if (!rotated) return;
    await rotated.reader.read(call => this.record(call), this.corrupt);
    if (last || Date.now() - rotated.at > ROTATED_DRAIN_MS) {
      await rotated.reader.close();
      fs.rmSync(rotated.reader.file, { force: true });
      this.rotated = undefined;
    }
  }

  private record(call: LoggedCall) {
    this.options.gateway.recordForwarded(forwardedInvocation(call));
  }

  private readonly corrupt = () =>
    this.options.logger.warn(
      'native gateway: a call log record did not add up and was skipped',
    );

  /** The private socket: nginx's authorization requests and every call it does not forward itself. */
  private async serve(req: IncomingMessage, res: ServerResponse) {
    if (req.method === 'GET' && req.url?.startsWith('/authorize?')) {
      await this.authorize(req, res);
      return;
    }
    const invocation = this.options.invocations.match(req);
    if (invocation) {
      invocation(req, res);
      return;
    }
    this.options.invocations.fail(
      req,
      res,
      new NotFoundError(
        'Only invocations (POST /api/ml-platform/v2/models/{name}/infer, POST /api/ml-platform/models/{namespace}/{name}/predict) are served on this port',
      ),
    );
  }

  /**
   * May this caller invoke this model, and where does the call go? The same
   * authentication, lookups and permission as a call. nginx remembers a yes
   * for 10 s at most, never past the token's expiry; any other answer sends
   * the call itself to the backend, which answers it.
   */
  private async authorize(req: IncomingMessage, res: ServerResponse) {
    try {
      const target = new URL(req.url!, 'http://localhost').searchParams.get(
        'target',
      );
      const v2 = /^v2\/([^/]+)$/.exec(target ?? '');
      const records = /^records\/([^/]+)\/([^/]+)$/.exec(target ?? '');
      if (!v2 && !records) {
        res.writeHead(400).end();
        return;
      }
      const credentials = await this.options.httpAuth.credentials(
        req as Request,
        { allow: ['user', 'service'] },
      );
      if (records) assertPathParameter('namespace', records[1]);
      assertPathParameter('name', v2 ? v2[1] : records![2]);
      const deployment = await this.options.gateway.authorize(
        v2
          ? { protocol: 'v2', name: v2[1] }
          : { protocol: 'records', namespace: records![1], name: records![2] },
        credentials,
      );
      const kind =
        (credentials.principal as { type: string }).type === 'user'
          ? 'user'
          : 'service';
      const ttl = Math.floor(
        Math.min(
          GRANT_TTL_MS,
          (credentials.expiresAt?.getTime() ?? Infinity) - Date.now(),
        ),
      );
      const grant = [
        deployment.id,
        field(deployment.modelRef),
        kind,
        field(principalRef(credentials)),
      ].join('\t');
      res.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Mlp-Grant-Ttl-Ms': String(Math.max(0, ttl)),
      });
      res.end(grant);
    } catch (error) {
      res.writeHead(statusOf(error)).end();
    }
  }
}
