#!/usr/bin/env node
// The gateway against the same replica called directly and through a peer
// proxy (Debian's nginx, keep-alive upstream), with model monitoring on and
// off, measured in one run with autocannon on loopback; plus deploy-to-ready
// and cold-start times. Writes bench/gateway/results.json.
//
//   node bench/gateway/run.mjs [--duration 6] [--rounds 3] [--phases 2] [--connections 8]
//                              [--toggle monitoring|events|database] [--out results.json] [--gc]
//                              [--node-floor] [--native] [--slices 1]
//
// `--gc` also reports the backend's garbage collection during each gateway
// load (bench/lib/gcWindow.cjs, loaded into it): main-thread GC time and the
// bytes surviving young-generation collections, per call.
//
// `--node-floor` adds a fourth path to each round: bench/lib/nodeFloor.ts,
// Node's HTTP server and the gateway's replica client with nothing else,
// the least a gateway in Node can spend per call.
//
// `--slices N` cuts each path's `--duration` into N loads taken in turns
// (the paths' order rotating each turn, 0.25 s idle after each load), so
// that the VM's speed, which drifts within seconds here, hits every path
// alike; a path's figures are then its calls over its seconds and its CPU
// over its calls, summed over its slices. The default, 1, is one load per
// path and round.
//
// `--native` starts the backend with the gateway's native data plane
// (`mlPlatform.gateway.nginx`: nginx and mlp_gateway.lua, supervised by the
// backend) and adds it as a path: the same calls with the same token on its
// port, its CPU the backend's plus its nginx's.
//
// A phase is one backend start with monitoring (or, with `--toggle events`,
// prediction events) on or off (read at start); with `--toggle database`,
// "on" is the embedded default's SQLite files, "off" the in-memory
// databases of the other toggles (monitoring and events on in both); phases alternate on, off,
// on, off... `--phases` is the number of on/off pairs. Within a phase each round measures direct,
// gateway and nginx back to back, so drift hits the three alike; ratios
// are taken per round, then the median over rounds.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuSeconds,
  findProcess,
  mainThreadCpuSeconds,
  nginxProcesses,
  processTree,
} from '../lib/cpu.mjs';
import { churnCustomerV2 } from '../lib/datasets.mjs';
import { nativeOverlay, startNginx, stopChild } from '../lib/nginx.mjs';
import {
  base,
  createModelRepo,
  median,
  option,
  registerAndBuild,
  sleep,
  spread,
  startPortal,
  waitUntil,
} from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const arg = (name, fallback) => Number(option(name, fallback));
const duration = arg('duration', 6);
const rounds = arg('rounds', 3);
const pairs = arg('phases', 2);
const connections = arg('connections', 8);
// What the phases switch on and off; the other stays on (the defaults).
const toggle = option('toggle', 'monitoring');
if (!['monitoring', 'events', 'database'].includes(toggle)) {
  throw new Error('--toggle is monitoring, events or database');
}
const out = path.resolve(here, option('out', 'results.json'));
const gc = process.argv.includes('--gc');
const nodeFloor = process.argv.includes('--node-floor');
const native = process.argv.includes('--native');
const slices = arg('slices', 1);
if (!Number.isInteger(slices) || slices < 1 || slices > duration * 10) {
  throw new Error(
    '--slices is a whole number from 1 to 10 per second of --duration',
  );
}
if (gc && slices > 1)
  throw new Error('--gc takes one load per path (--slices 1)');
/** Idle after each slice, so one path's leftover work is not another's. */
const SLICE_GAP_MS = 250;

const v2 = churnCustomerV2;

function load(url, conns, extraHeaders = {}, seconds = duration) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        body: v2,
        headers: { 'Content-Type': 'application/json', ...extraHeaders },
        connections: conns,
        duration: seconds,
        pipelining: 1,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** Sequential requests on one keep-alive connection, timed in microseconds. */
async function sequentialLatency(url, count, extraHeaders = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(v2),
            ...extraHeaders,
          },
        },
        res => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve()
              : reject(new Error(`status ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(v2);
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return {
    p50us: times[Math.floor(count * 0.5)],
    p99us: times[Math.floor(count * 0.99)],
  };
}

/**
 * The backend's GC during a load, through bench/lib/gcWindow.cjs: a signal
 * opens the window, another closes it and the backend writes what it saw.
 */
function gcWindow(backendPid, dir) {
  let n = 0;
  return {
    open: () => process.kill(backendPid, 'SIGUSR2'),
    async close() {
      process.kill(backendPid, 'SIGUSR2');
      const file = path.join(dir, `gc-${n++}.json`);
      return JSON.parse(
        await waitUntil(
          async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8'),
          10_000,
          'the GC window',
          50,
        ),
      );
    },
  };
}

/**
 * A load run with the CPU the given processes used during it, in seconds;
 * for the backend also its main thread's (the rest is helper threads), and
 * its GC when `gcWatch` is given. `combined` turns samples into figures.
 */
async function measured(
  url,
  pids,
  headers,
  seconds,
  mainPid,
  gcWatch,
  partPids,
) {
  const before = cpuSeconds(pids());
  const partBefore = partPids ? cpuSeconds(partPids()) : 0;
  const mainBefore = mainPid ? mainThreadCpuSeconds(mainPid) : 0;
  gcWatch?.open();
  const result = await load(url, connections, headers, seconds);
  return {
    result,
    cpu: cpuSeconds(pids()) - before,
    partCpu: partPids ? cpuSeconds(partPids()) - partBefore : undefined,
    mainCpu: mainPid ? mainThreadCpuSeconds(mainPid) - mainBefore : undefined,
    gcSeen: await gcWatch?.close(),
  };
}

/**
 * A path's figures in a round from its samples: one load reports
 * autocannon's own mean of its seconds; several, their calls over their
 * seconds, and latency as the median of their percentiles.
 */
function combined(samples) {
  const sum = key => samples.reduce((n, s) => n + s[key], 0);
  const calls = samples.reduce((n, s) => n + s.result.requests.total, 0);
  const perCall = seconds =>
    calls > 0 ? Math.round((seconds * 1e6) / calls) : undefined;
  const [first] = samples;
  const one = samples.length === 1;
  return {
    rps: one
      ? first.result.requests.average
      : calls / samples.reduce((n, s) => n + s.result.duration, 0),
    p50: one
      ? first.result.latency.p50
      : median(samples.map(s => s.result.latency.p50)),
    p99: one
      ? first.result.latency.p99
      : median(samples.map(s => s.result.latency.p99)),
    errors: samples.reduce((n, s) => n + s.result.errors + s.result.non2xx, 0),
    cpuUsPerCall: perCall(sum('cpu')),
    ...(first.mainCpu !== undefined
      ? { mainThreadCpuUsPerCall: perCall(sum('mainCpu')) }
      : {}),
    // For the native path: its nginx's share (the rest is the backend's).
    ...(first.partCpu !== undefined
      ? { nginxCpuUsPerCall: perCall(sum('partCpu')) }
      : {}),
    ...(first.gcSeen ? { gc: first.gcSeen } : {}),
    ...(one ? {} : { slices: samples.length }),
  };
}

const round3 = x => Number(x.toFixed(3));

/** bench/lib/nodeFloor.ts on a free port, proxying to `replica`. */
async function startNodeFloor(replica) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
      path.join(here, '../lib/nodeFloor.ts'),
      String(port),
      replica,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`nodeFloor exited ${code}`)));
    child.stdout.on('data', data => {
      if (String(data).includes('listening')) resolve();
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

/**
 * An overlay putting the backend's databases in SQLite files under a fresh
 * directory, as app-config.yaml does (the bench overlay keeps them in memory).
 */
function fileDatabases() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-db-'));
  const dbDir = path.join(dir, 'db');
  const overlay = path.join(dir, 'app-config.database.yaml');
  fs.writeFileSync(
    overlay,
    `backend:\n  database:\n    client: better-sqlite3\n    connection:\n      directory: ${JSON.stringify(
      dbDir,
    )}\n`,
  );
  return {
    overlay,
    // The overlay took: the backend's databases are files there.
    files: () => (fs.existsSync(dbDir) ? fs.readdirSync(dbDir) : []),
    cleanup: () => fs.rmSync(dir, { recursive: true }),
  };
}

async function runPhase(index, on) {
  const monitoring = toggle === 'monitoring' ? on : true;
  const events = toggle === 'events' ? on : true;
  const files = toggle === 'database' && on ? fileDatabases() : undefined;
  const nativePlane = native ? await nativeOverlay() : undefined;
  const gcDir = gc
    ? fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-gc-'))
    : undefined;
  const portal = await startPortal({
    overlay: [
      path.join(here, 'app-config.bench.yaml'),
      ...(files ? [files.overlay] : []),
      ...(nativePlane ? [nativePlane.overlay] : []),
    ],
    env: {
      MLP_BENCH_MONITORING: String(monitoring),
      MLP_BENCH_EVENTS: String(events),
      ...(gcDir
        ? {
            MLP_BENCH_GC_DIR: gcDir,
            NODE_OPTIONS: [
              process.env.MLP_BENCH_NODE_OPTIONS,
              `--require ${path.join(here, '../lib/gcWindow.cjs')}`,
            ]
              .filter(Boolean)
              .join(' '),
          }
        : {}),
    },
  });
  const { api, headers } = portal;
  const auth = { Authorization: headers.Authorization };
  const phase = {
    monitoring,
    events,
    database: files ? 'files' : 'memory',
    on,
    rounds: [],
    sequential: {},
  };
  let nginx;
  let floor;
  try {
    // The backend itself, not the yarn and watcher processes around it.
    const backendPid = await waitUntil(
      async () => findProcess(portal.backendPid, /src\/index/),
      10_000,
      'the backend process',
    );
    const repo = createModelRepo(portal.tmp);
    const build = await registerAndBuild(api, 'churn', repo.url);
    if (files) phase.databaseFiles = files.files();
    if (files && phase.databaseFiles.length === 0) {
      throw new Error('the backend did not put its databases in files');
    }

    // Deploy-to-ready, in the first phase: from the POST to `ready`.
    const deployTimes = [];
    let deployment;
    for (let i = 0; i < (index === 0 ? 3 : 1); i++) {
      const t0 = performance.now();
      deployment = await api('POST', '/models/default/churn/deployments', {
        buildId: build.id,
        type: 'online',
        replicas: 1,
        minReplicas: 1,
      });
      await waitUntil(
        async () =>
          (await api('GET', `/deployments/${deployment.id}`)).status ===
          'ready',
        60_000,
        'ready',
        10,
      );
      deployTimes.push(performance.now() - t0);
      if (index === 0 && i < 2) {
        await api('DELETE', `/deployments/${deployment.id}`);
        await sleep(500);
      }
    }
    phase.deployToReadyMs = deployTimes.map(Math.round);
    const replica = (await api('GET', `/deployments/${deployment.id}`))
      .replicaStatus[0].url;
    nginx = await startNginx({
      upstream: new URL(replica).host,
      dir: path.join(portal.tmp, 'nginx'),
    });
    if (nodeFloor) floor = await startNodeFloor(replica);
    const urls = {
      direct: `${replica}/v2/models/churn/infer`,
      gateway: `${base}/api/ml-platform/v2/models/churn/infer`,
      nginx: `${nginx.url}/v2/models/churn/infer`,
      ...(nativePlane
        ? { native: `${nativePlane.url}/api/ml-platform/v2/models/churn/infer` }
        : {}),
      ...(floor ? { nodeFloor: `${floor.url}/v2/models/churn/infer` } : {}),
    };
    // The native data plane's nginx, started by the backend.
    const nativeNginxPids = () => nginxProcesses(backendPid);
    const nativePids = () => [backendPid, ...nativeNginxPids()];
    // Called directly, the backend still reads the replica's access log:
    // its CPU then is what every path pays, the gateway's own on top.
    const pids = {
      direct: () => [backendPid],
      gateway: () => [backendPid],
      nginx: () => processTree(nginx.pid),
      nodeFloor: () => [floor.pid],
      native: nativePids,
    };
    const callHeaders = {
      direct: {},
      gateway: auth,
      nginx: {},
      nodeFloor: {},
      native: auth,
    };
    const gcWatch = gcDir ? gcWindow(backendPid, gcDir) : undefined;

    // Warm every path, then alternate them within each round.
    for (const kind of Object.keys(urls)) {
      await load(urls[kind], 1, callHeaders[kind], 2);
    }
    const kinds = Object.keys(urls);
    for (let r = 0; r < rounds; r++) {
      const samples = Object.fromEntries(kinds.map(kind => [kind, []]));
      for (let s = 0; s < slices; s++) {
        // Each turn starts one path later, so each follows every other.
        for (let k = 0; k < kinds.length; k++) {
          const kind = kinds[(k + s) % kinds.length];
          samples[kind].push(
            await measured(
              urls[kind],
              pids[kind],
              callHeaders[kind],
              duration / slices,
              kind === 'direct' || kind === 'gateway' || kind === 'native'
                ? backendPid
                : undefined,
              kind === 'gateway' ? gcWatch : undefined,
              kind === 'native' ? nativeNginxPids : undefined,
            ),
          );
          if (slices > 1) await sleep(SLICE_GAP_MS);
        }
      }
      const results = Object.fromEntries(
        kinds.map(kind => [kind, combined(samples[kind])]),
      );
      phase.rounds.push(results);
      console.log(
        `phase ${index} (${
          toggle === 'database'
            ? `databases in ${phase.database}`
            : `${toggle} ${on ? 'on' : 'off'}`
        }) round ${r}:`,
        Object.entries(results)
          .map(
            ([k, v]) =>
              `${k} ${Math.round(v.rps)} req/s${
                v.cpuUsPerCall ? ` ${v.cpuUsPerCall} µs CPU/call` : ''
              }${
                v.nginxCpuUsPerCall !== undefined
                  ? ` (its nginx ${v.nginxCpuUsPerCall})`
                  : ''
              }${
                v.mainThreadCpuUsPerCall !== undefined
                  ? ` (main thread ${v.mainThreadCpuUsPerCall})`
                  : ''
              }${
                v.gc
                  ? `, GC ${v.gc.gcUsPerCall} µs and ${v.gc.survivedBytesPerCall} B surviving per call`
                  : ''
              }`,
          )
          .join(', ')
          .replace('direct', 'direct (backend CPU)'),
      );
    }
    for (const kind of Object.keys(urls)) {
      phase.sequential[kind] = await sequentialLatency(
        urls[kind],
        2000,
        callHeaders[kind],
      );
    }
    console.log(`phase ${index} sequential p50 (µs):`, phase.sequential);

    // Cold start, in the first phase: scale to zero (5 s idle), one request.
    if (index === 0) {
      await api('PATCH', `/deployments/${deployment.id}`, { minReplicas: 0 });
      const coldStarts = [];
      for (let i = 0; i < 3; i++) {
        await waitUntil(
          async () =>
            (await api('GET', `/deployments/${deployment.id}`)).status ===
            'stopped',
          60_000,
          'scaled to zero',
          200,
        );
        const t0 = performance.now();
        const res = await fetch(urls.gateway, {
          method: 'POST',
          headers,
          body: v2,
        });
        if (res.status !== 200) {
          throw new Error(`cold request answered ${res.status}`);
        }
        coldStarts.push(performance.now() - t0);
      }
      phase.coldStartMs = coldStarts.map(Math.round);
    }
    phase.backendStartToReadyMs = Math.round(portal.readyMs);
    return phase;
  } catch (error) {
    // The backend's log says why (it goes with the phase's directory).
    const kept = path.join(os.tmpdir(), `mlp-bench-gateway-phase-${index}.log`);
    fs.copyFileSync(path.join(portal.tmp, 'backend.log'), kept);
    console.error(`phase ${index} failed; the backend's log is in ${kept}`);
    throw error;
  } finally {
    await nginx?.stop();
    await floor?.stop();
    await portal.stop();
    portal.cleanup();
    files?.cleanup();
    nativePlane?.cleanup();
    if (gcDir) fs.rmSync(gcDir, { recursive: true, force: true });
  }
}

const phases = [];
for (let p = 0; p < pairs * 2; p++) {
  phases.push(await runPhase(p, p % 2 === 0));
}

const on = phases.filter(p => p.on);
const off = phases.filter(p => !p.on);
const roundsOf = list => list.flatMap(p => p.rounds);
const ratios = (list, a, b) => roundsOf(list).map(r => r[a].rps / r[b].rps);
const values = (list, kind, key) =>
  roundsOf(list)
    .map(r => r[kind][key])
    .filter(v => v !== undefined);
const sequential = (list, kind) => list.map(p => p.sequential[kind].p50us);
const gcValues = (list, key) =>
  roundsOf(list)
    .map(r => r.gateway.gc?.[key])
    .filter(v => v !== undefined);

const gatewayOverNginx = spread(ratios(on, 'gateway', 'nginx'));
// With --node-floor: the least Node spends, against nginx and the gateway.
const floorSummary = nodeFloor
  ? {
      nodeFloorOverNginx: spread(ratios(on, 'nodeFloor', 'nginx')),
      gatewayOverNodeFloor: spread(ratios(on, 'gateway', 'nodeFloor')),
      nodeFloorRps: median(values(on, 'nodeFloor', 'rps')),
      nodeFloorCpuUsPerCall: spread(values(on, 'nodeFloor', 'cpuUsPerCall')),
    }
  : undefined;
// With --native: the gateway's native data plane against nginx alone.
const nativeSummary = native
  ? {
      nativeOverNginx: spread(ratios(on, 'native', 'nginx')),
      // The same with the toggled feature off (events off with --toggle events).
      nativeOverNginxToggleOff: spread(ratios(off, 'native', 'nginx')),
      nativeOverDirect: spread(ratios(on, 'native', 'direct')),
      nativeRps: median(values(on, 'native', 'rps')),
      // The backend and the data plane's nginx together, and its nginx.
      nativeCpuUsPerCall: spread(values(on, 'native', 'cpuUsPerCall')),
      nativeNginxCpuUsPerCall: spread(
        values(on, 'native', 'nginxCpuUsPerCall'),
      ),
      nativeOnOverOff: round3(
        median(ratios(on, 'native', 'direct')) /
          median(ratios(off, 'native', 'direct')),
      ),
    }
  : undefined;
const onOverDirect = spread(ratios(on, 'gateway', 'direct'));
const offOverDirect = spread(ratios(off, 'gateway', 'direct'));
const summary = {
  connections,
  peer: {
    // Target: the gateway (monitoring on) keeps >= 0.85 of nginx's throughput.
    gatewayOverNginx,
    nginxOverDirect: spread(ratios(on, 'nginx', 'direct')),
    gatewayOverDirect: onOverDirect,
    rps: {
      direct: median(values(on, 'direct', 'rps')),
      gateway: median(values(on, 'gateway', 'rps')),
      nginx: median(values(on, 'nginx', 'rps')),
    },
    cpuUsPerCall: {
      backend: spread(values(on, 'gateway', 'cpuUsPerCall')),
      nginx: spread(values(on, 'nginx', 'cpuUsPerCall')),
      // The backend's CPU while the replica is called directly (its access
      // log): part of every path's cost, not the gateway's.
      backendWhenDirect: spread(values(on, 'direct', 'cpuUsPerCall')),
    },
    ...floorSummary,
    ...nativeSummary,
  },
  toggle,
  // monitoring (issue 15), events (issue 17) or database (on: SQLite files,
  // off: in memory), whichever the phases switch.
  [toggle]: {
    // Targets: throughput with monitoring on at most 5 % lower than off,
    // with prediction events on at most 10 % lower; each compared to the
    // replica called directly in the same round.
    onOverOff: round3(onOverDirect.median / offOverDirect.median),
    gatewayOverDirect: { on: onOverDirect, off: offOverDirect },
    backendCpuUsPerCall: {
      on: spread(values(on, 'gateway', 'cpuUsPerCall')),
      off: spread(values(off, 'gateway', 'cpuUsPerCall')),
    },
    // The same, the backend's main thread only (the event loop); the rest
    // is libuv's pool and V8's helper threads.
    backendMainThreadCpuUsPerCall: {
      on: spread(values(on, 'gateway', 'mainThreadCpuUsPerCall')),
      off: spread(values(off, 'gateway', 'mainThreadCpuUsPerCall')),
    },
    ...(gc
      ? {
          // With --gc: the backend's main-thread GC time and the bytes that
          // survived young-generation collections, per gateway call.
          backendGc: Object.fromEntries(
            ['gcUsPerCall', 'survivedBytesPerCall', 'promotedBytesPerCall'].map(
              key => [
                key,
                {
                  on: spread(gcValues(on, key)),
                  off: spread(gcValues(off, key)),
                },
              ],
            ),
          ),
        }
      : {}),
  },
  latency: {
    // Target: the gateway adds <= 0.5 ms at p50 (sequential, monitoring on).
    p50AddedMs: round3(
      (median(sequential(on, 'gateway')) - median(sequential(on, 'direct'))) /
        1000,
    ),
    p50AddedByPhaseMs: on.map(p =>
      round3((p.sequential.gateway.p50us - p.sequential.direct.p50us) / 1000),
    ),
    nginxP50AddedMs: round3(
      (median(sequential(on, 'nginx')) - median(sequential(on, 'direct'))) /
        1000,
    ),
    p50Us: {
      direct: median(sequential(on, 'direct')),
      gateway: median(sequential(on, 'gateway')),
      [`gateway${toggle[0].toUpperCase()}${toggle.slice(1)}Off`]: median(
        sequential(off, 'gateway'),
      ),
      nginx: median(sequential(on, 'nginx')),
      ...(native ? { native: median(sequential(on, 'native')) } : {}),
    },
    ...(native
      ? {
          nativeP50AddedMs: round3(
            (median(sequential(on, 'native')) -
              median(sequential(on, 'direct'))) /
              1000,
          ),
        }
      : {}),
  },
  errors: phases.reduce(
    (n, p) =>
      n +
      p.rounds.reduce(
        (m, r) =>
          m + Object.values(r).reduce((e, result) => e + result.errors, 0),
        0,
      ),
    0,
  ),
  deployToReadyMs: {
    median: median(phases[0].deployToReadyMs),
    runs: phases[0].deployToReadyMs,
  },
  coldStartMs: {
    median: median(phases[0].coldStartMs),
    runs: phases[0].coldStartMs,
  },
  backendStartToReadyMs: phases.map(p => p.backendStartToReadyMs),
};
for (const s of [
  gatewayOverNginx,
  onOverDirect,
  offOverDirect,
  summary.peer.nginxOverDirect,
  floorSummary?.nodeFloorOverNginx,
  floorSummary?.gatewayOverNodeFloor,
  nativeSummary?.nativeOverNginx,
  nativeSummary?.nativeOverNginxToggleOff,
  nativeSummary?.nativeOverDirect,
].filter(Boolean)) {
  for (const k of ['median', 'min', 'max']) s[k] = round3(s[k]);
}
console.log(JSON.stringify(summary, null, 2));
fs.writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      cpus: os.cpus().length,
      loadAverage: os.loadavg(),
      durationSeconds: duration,
      rounds,
      slices,
      summary,
      phases,
    },
    null,
    2,
  )}\n`,
);
