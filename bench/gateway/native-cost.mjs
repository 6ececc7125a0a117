#!/usr/bin/env node
// Where the native data plane's CPU per call goes. The throughput ratios of
// run.mjs say how far it is from nginx; this says what the gap is made of.
// The same 1-row V2 calls go to the churn replica directly, through plain
// nginx (the peer of run.mjs) and through the native data plane, at a fixed
// rate well below saturation, so each process's CPU per call is measured
// without the processes fighting over the two cores. One backend start per
// configuration:
//
//   defaults     monitoring and prediction events on, events sampled at 1.0
//   unsampled    the same with events.sampleRate 0: events without bodies
//   eventsOff    monitoring on, prediction events off
//   bare         monitoring and prediction events off
//
// Called directly, the backend still reads the replica's access log: what
// it spends then every path pays; the native path's own cost is the rest.
//
//   node bench/gateway/native-cost.mjs [--rate 1500] [--seconds 10] [--rounds 4]
//                                      [--out results-native-cost.json]
import autocannon from 'autocannon';
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
import { freePort, startNginx } from '../lib/nginx.mjs';
import {
  createModelRepo,
  deployOnlineReady,
  median,
  option,
  registerAndBuild,
  sleep,
  spread,
  startPortal,
  waitUntil,
} from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tenth = x => Math.round(x * 10) / 10;
const rate = Number(option('rate', 1500));
const seconds = Number(option('seconds', 10));
const rounds = Number(option('rounds', 4));
const out = path.resolve(here, option('out', 'results-native-cost.json'));

const CONFIGS = {
  defaults: { monitoring: true, events: true, sampleRate: 1 },
  unsampled: { monitoring: true, events: true, sampleRate: 0 },
  eventsOff: { monitoring: true, events: false, sampleRate: 1 },
  bare: { monitoring: false, events: false, sampleRate: 1 },
};

const body = churnCustomerV2;

/** `seconds` of calls at `rate` per second over 8 connections. */
function load(url, headers) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json', ...headers },
        connections: 8,
        duration: seconds,
        overallRate: rate,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** CPU µs per call of each process group while `url` is loaded. */
async function measure(url, headers, groups) {
  const before = Object.fromEntries(
    Object.entries(groups).map(([k, read]) => [k, read()]),
  );
  const result = await load(url, headers);
  // What the backend reads after the calls (logs every 200 ms) is theirs.
  await sleep(600);
  const calls = result.requests.total;
  if (result.non2xx || result.errors) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx, ${result.errors} errors`,
    );
  }
  return Object.fromEntries(
    Object.entries(groups).map(([k, read]) => [
      k,
      tenth(((read() - before[k]) / calls) * 1e6),
    ]),
  );
}

async function runConfig(name, config) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-cost-'));
  const overlay = path.join(dir, 'app-config.cost.yaml');
  fs.writeFileSync(
    overlay,
    [
      'mlPlatform:',
      '  events:',
      `    sampleRate: ${config.sampleRate}`,
      '  gateway:',
      '    nginx:',
      '      enabled: true',
      `      port: ${port}`,
      '',
    ].join('\n'),
  );
  const portal = await startPortal({
    overlay: [path.join(here, 'app-config.bench.yaml'), overlay],
    env: {
      MLP_BENCH_MONITORING: String(config.monitoring),
      MLP_BENCH_EVENTS: String(config.events),
    },
  });
  let peer;
  try {
    const { api, headers } = portal;
    const backendPid = await waitUntil(
      async () => findProcess(portal.backendPid, /src\/index/),
      10_000,
      'the backend process',
    );
    const build = await registerAndBuild(
      api,
      'churn',
      createModelRepo(portal.tmp).url,
    );
    const deployment = await deployOnlineReady(api, build.id);
    const replica = (await api('GET', `/deployments/${deployment.id}`))
      .replicaStatus[0].url;
    peer = await startNginx({
      upstream: new URL(replica).host,
      dir: path.join(portal.tmp, 'nginx'),
    });
    const auth = { Authorization: headers.Authorization };
    const backend = () => cpuSeconds([backendPid]);
    const backendMain = () => mainThreadCpuSeconds(backendPid);
    const nativeNginx = () => cpuSeconds(nginxProcesses(backendPid));
    const peerNginx = () => cpuSeconds(processTree(peer.pid));
    const paths = {
      direct: [`${replica}/v2/models/churn/infer`, {}],
      nginx: [`${peer.url}/v2/models/churn/infer`, {}],
      native: [
        `http://127.0.0.1:${port}/api/ml-platform/v2/models/churn/infer`,
        auth,
      ],
    };
    // Warm-up: the native path's grant, JIT, connections.
    for (const [url, h] of Object.values(paths)) await load(url, h);
    const measured = [];
    for (let r = 0; r < rounds; r++) {
      const round = {};
      for (const [kind, [url, h]] of Object.entries(paths)) {
        round[kind] = await measure(url, h, {
          backend,
          backendMain,
          nativeNginx,
          peerNginx,
        });
      }
      measured.push(round);
      console.log(name, `round ${r + 1}:`, JSON.stringify(round));
    }
    return measured;
  } finally {
    await peer?.stop();
    await portal.stop();
    portal.cleanup();
    fs.rmSync(dir, { recursive: true });
  }
}

const results = {};
for (const [name, config] of Object.entries(CONFIGS)) {
  const measured = await runConfig(name, config);
  const of = (kind, key) => measured.map(r => r[kind][key]);
  // The native path's CPU beyond plain nginx's: what its nginx spends over
  // the peer, and what the backend spends over the calls that do not go
  // through it (direct and peer rounds: the replica's log, timers). Medians
  // first, then differences: one noisy round (a collection, a task) moves
  // a median little but a per-round difference a lot.
  const backendBase = median([
    ...of('direct', 'backend'),
    ...of('nginx', 'backend'),
  ]);
  const nginxExtra = tenth(
    median(of('native', 'nativeNginx')) - median(of('nginx', 'peerNginx')),
  );
  const backendExtra = tenth(median(of('native', 'backend')) - backendBase);
  results[name] = {
    config,
    cpuUsPerCall: {
      peerNginx: spread(of('nginx', 'peerNginx')),
      nativeNginx: spread(of('native', 'nativeNginx')),
      backendWhenNotNative: spread([
        ...of('direct', 'backend'),
        ...of('nginx', 'backend'),
      ]),
      backendWhenNative: spread(of('native', 'backend')),
      backendMainThreadWhenNative: spread(of('native', 'backendMain')),
    },
    nativeOverNginxUs: {
      nginx: nginxExtra,
      backend: backendExtra,
      total: tenth(nginxExtra + backendExtra),
    },
    rounds: measured,
  };
  console.log(name, JSON.stringify(results[name].nativeOverNginxUs));
}

fs.writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map(x => Number(x.toFixed(2))),
      ratePerSecond: rate,
      seconds,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`written ${path.relative(process.cwd(), out)}`);
