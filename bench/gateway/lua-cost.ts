/* eslint-disable no-console */
// The native data plane's Lua, alone: what nginx spends per call beyond
// plain nginx, this checkout's mlp_gateway.lua against a baseline commit's,
// with no backend and no model in the way. Each side is an nginx started
// from the configuration the backend writes (renderNginxConfig), its grant
// answered by a stub on the backend's socket and its replica a second
// nginx answering a churn V2 answer; plain nginx proxies to the same one.
// Every call is a 1-row churn V2 call with a 600-byte bearer token.
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/gateway/lua-cost.ts --baseline <commit> [--mode instructions|cpu]
//     [--rounds N] [--out F]
//
// --mode instructions (the default) runs each nginx under valgrind's
// callgrind and counts the instructions it executes per call over 4,000
// calls: the same code gives the same count to within a few in a thousand,
// whatever else the machine does. Time is not measured (valgrind is ~50x
// slower).
// --mode cpu runs them natively at a fixed 3,000 calls/s, 5 s per side per
// round, sides alternating, and reports each nginx's CPU µs per call: the
// time the instructions stand for, with this machine's noise.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { arg, commitArg, countArg, median } from '../lib/cli';
// @ts-ignore
import autocannon from 'autocannon';
import { renderNginxConfig } from '../../plugins/ml-platform-backend/src/gateway/nginx/nginxConfig';
import { churnV2Body } from '../../plugins/ml-platform-backend/src/__testUtils__/churnReference';
// @ts-ignore
import { cpuSeconds, processTree } from '../lib/cpu.mjs';
// @ts-ignore
import { freePort, stopChild } from '../lib/nginx.mjs';

const LUA = 'plugins/ml-platform-backend/nginx/mlp_gateway.lua';
const MODULES = '/usr/lib/nginx/modules';

const baseline = commitArg('baseline');
const mode = arg('mode', 'instructions');
const rounds = countArg('rounds', mode === 'cpu' ? 8 : 2);
const out = arg('out', '');
if (mode !== 'instructions' && mode !== 'cpu') throw new Error('--mode');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-lua-cost-'));
const body = JSON.stringify(
  churnV2Body([require('../lib/churnCustomer.json')]),
);
const answer = JSON.stringify({
  model_name: 'churn',
  model_version: 'b-0123456789abcdef',
  id: '0',
  outputs: [
    { name: 'churn', datatype: 'BOOL', shape: [1], data: [true] },
    { name: 'churn_probability', datatype: 'FP64', shape: [1], data: [0.7312] },
  ],
});
const authorization = `Bearer ${'e'.repeat(600)}`;
const children: ChildProcess[] = [];

/** nginx in the foreground; under callgrind in instructions mode. */
function nginx(dir: string, conf: string): ChildProcess {
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    file,
    mode === 'instructions'
      ? conf.replace('master_process on;', 'master_process off;')
      : conf,
  );
  const args = ['-p', dir, '-c', file, '-e', path.join(dir, 'error.log')];
  const child =
    mode === 'instructions'
      ? spawn(
          'valgrind',
          [
            '--tool=callgrind',
            '--smc-check=all-non-file',
            `--callgrind-out-file=${dir}/callgrind.%p`,
            '/usr/sbin/nginx',
            ...args,
          ],
          {
            stdio: [
              'ignore',
              'ignore',
              fs.openSync(`${dir}/valgrind.log`, 'w'),
            ],
          },
        )
      : spawn('/usr/sbin/nginx', args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function listening(port: number) {
  for (let i = 0; i < 600; i++) {
    const up = await new Promise(resolve => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

const tempPaths = (dir: string) =>
  ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map(t => `${t}_temp_path ${dir}/${t};`)
    .join(' ');

interface Side {
  name: string;
  url: string;
  pid: number;
  dir: string;
}

async function replica(): Promise<number> {
  const dir = path.join(tmp, 'replica');
  fs.mkdirSync(dir);
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off; pid ${dir}/pid; error_log ${dir}/error.log warn; events {}
http { access_log off; ${tempPaths(dir)}
  server { listen 127.0.0.1:${port}; keepalive_requests 1000000;
    location / { default_type application/json; return 200 '${answer}'; } } }`,
  );
  const child = spawn(
    '/usr/sbin/nginx',
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', `${dir}/error.log`],
    { stdio: 'ignore' },
  );
  children.push(child);
  await listening(port);
  return port;
}

async function plain(replicaPort: number): Promise<Side> {
  const dir = path.join(tmp, 'plain');
  fs.mkdirSync(dir);
  const port = await freePort();
  const child = nginx(
    dir,
    `daemon off; master_process on; worker_processes 1; pid ${dir}/pid;
error_log ${dir}/error.log warn; events {}
http { access_log off; ${tempPaths(dir)}
  upstream replica { server 127.0.0.1:${replicaPort}; keepalive 64; }
  server { listen 127.0.0.1:${port}; keepalive_requests 1000000;
    location / { proxy_pass http://replica; proxy_http_version 1.1;
      proxy_set_header Connection ""; } } }`,
  );
  await listening(port);
  return {
    name: 'plain',
    url: `http://127.0.0.1:${port}/v2/models/churn/infer`,
    pid: child.pid!,
    dir,
  };
}

async function native(
  name: string,
  lua: string,
  replicaPort: number,
  backendSocket: string,
): Promise<Side> {
  const dir = path.join(tmp, name);
  const luaDir = path.join(dir, 'lua');
  fs.mkdirSync(luaDir, { recursive: true });
  fs.writeFileSync(path.join(luaDir, 'mlp_gateway.lua'), lua);
  const port = await freePort();
  const child = nginx(
    dir,
    renderNginxConfig({
      listen: { host: '127.0.0.1', port },
      workers: 1,
      user: process.getuid?.() === 0 ? os.userInfo().username : undefined,
      modulesDir: MODULES,
      runDir: dir,
      pidFile: path.join(dir, 'nginx.pid'),
      errorLog: path.join(dir, 'error.log'),
      callLog: path.join(dir, 'calls.log'),
      backendSocket,
      luaDir,
      maxBodyBytes: 10 * 1024 * 1024,
      maxElements: 1_000_000,
      maxJsonDepth: 32,
      timeoutMs: 30_000,
      answerCapBytes: 1024 * 1024,
    }),
  );
  await listening(port);
  // The replica's address, as the backend puts it.
  await new Promise<void>((resolve, reject) => {
    const routes = `d-1\tb-0123456789abcdef\t127.0.0.1:${replicaPort}`;
    http
      .request(
        {
          socketPath: path.join(dir, 'control.sock'),
          path: '/routes',
          method: 'POST',
        },
        res => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve()
              : reject(new Error(`routes: ${res.statusCode}`)),
          );
        },
      )
      .on('error', reject)
      .end(routes);
  });
  return {
    name,
    url: `http://127.0.0.1:${port}/api/ml-platform/v2/models/churn/infer`,
    pid: child.pid!,
    dir,
  };
}

/** autocannon's result for calls to `side`; an error unless all were answered 2xx. */
async function call(side: Side, opts: object): Promise<any> {
  const result: any = await new Promise((resolve, reject) =>
    autocannon(
      {
        url: side.url,
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json',
          Authorization: authorization,
        },
        ...opts,
      },
      (error: Error, r: any) => (error ? reject(error) : resolve(r)),
    ),
  );
  if (result.non2xx || result.errors) {
    throw new Error(
      `${side.name}: ${result.non2xx} non-2xx, ${result.errors} errors`,
    );
  }
  return result;
}

/** Instructions the process executed since its counters were zeroed. */
function instructions(side: Side): number {
  execFileSync('callgrind_control', ['--dump', String(side.pid)], {
    stdio: 'ignore',
  });
  const dumps = fs
    .readdirSync(side.dir)
    .filter(f => f.startsWith(`callgrind.${side.pid}.`))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = fs.readFileSync(path.join(side.dir, dumps.at(-1)!), 'utf8');
  return Number(/^(?:summary|totals): (\d+)/m.exec(text)![1]);
}

async function measure(side: Side): Promise<number> {
  if (mode === 'instructions') {
    execFileSync('callgrind_control', ['--zero', String(side.pid)], {
      stdio: 'ignore',
    });
    const r = await call(side, { connections: 4, amount: 4000, timeout: 60 });
    return Math.round(instructions(side) / r.requests.total);
  }
  const tree = processTree(side.pid);
  const before = cpuSeconds(tree);
  const r = await call(side, {
    connections: 8,
    duration: 5,
    overallRate: 3000,
  });
  await new Promise(res => setTimeout(res, 300));
  return +(((cpuSeconds(tree) - before) / r.requests.total) * 1e6).toFixed(2);
}

async function main() {
  const stub = http.createServer((req, res) => {
    if (!req.url?.startsWith('/authorize?'))
      return void res.writeHead(500).end();
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'X-Mlp-Grant-Ttl-Ms': '3600000',
    });
    res.end('d-1\tcomponent:default/churn\tuser\tuser:default/guest');
  });
  const backendSocket = path.join(tmp, 'backend.sock');
  await new Promise<void>(r => stub.listen(backendSocket, r));
  const replicaPort = await replica();
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  const baselineLua = execFileSync('git', ['show', `${baseline}:${LUA}`], {
    encoding: 'utf8',
  });
  const sides = [
    await plain(replicaPort),
    await native(
      `baseline ${baseline}`.replace(/\W+/g, '-'),
      baselineLua,
      replicaPort,
      backendSocket,
    ),
    await native(
      `this ${head}`.replace(/\W+/g, '-'),
      fs.readFileSync(LUA, 'utf8'),
      replicaPort,
      backendSocket,
    ),
  ];
  const names = ['plain', `baseline ${baseline}`, `this ${head}`];
  // Warm-up: grants fetched, traces compiled; and every call answered natively.
  for (const side of sides) {
    await call(side, { connections: 4, amount: 2000, timeout: 60 });
  }
  for (const side of sides.slice(1)) {
    if (!fs.existsSync(path.join(side.dir, 'calls.log')))
      throw new Error(`${side.name} forwarded nothing natively`);
  }
  const perCall: number[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [2, 1, 0] : [0, 1, 2];
    for (const i of order) perCall[i].push(await measure(sides[i]));
    console.log(
      `round ${round + 1}: ${names
        .map((n, i) => `${n} ${perCall[i].at(-1)}`)
        .join(', ')}`,
    );
  }
  const unit = mode === 'instructions' ? 'instructions' : 'cpuMicroseconds';
  const plainMedian = median(perCall[0]);
  const result = {
    command: process.argv.slice(1).join(' '),
    date: new Date().toISOString(),
    mode,
    unit: `${unit} per call`,
    commit: head,
    baseline,
    sides: names.map((name, i) => ({
      name,
      rounds: perCall[i],
      median: median(perCall[i]),
      overPlain: +(median(perCall[i]) - plainMedian).toFixed(2),
    })),
    // The Lua's own cost, this checkout over the baseline.
    luaRatio: +(
      (median(perCall[2]) - plainMedian) /
      (median(perCall[1]) - plainMedian)
    ).toFixed(3),
  };
  console.log(JSON.stringify(result, null, 2));
  if (out) fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  stub.close();
}

main()
  .then(
    () => 0,
    error => {
      console.error(error);
      return 1;
    },
  )
  .then(async code => {
    for (const child of children) await stopChild(child, 'SIGQUIT');
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(code);
  });
