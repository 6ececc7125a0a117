#!/usr/bin/env node
// What the native data plane gives a Python SDK user: `client.predict` in a
// loop, sent to the data plane the platform names (`GET gateway`, the SDK's
// default) and to the portal's port (`data_plane=False`), in alternating
// rounds against one backend and one replica of the churn model, monitoring
// and prediction events on (the embedded defaults). Writes
// bench/sdk/results.json.
//
//   node bench/sdk/run.mjs [--seconds 8] [--rounds 6] [--callers 4] [--out results.json]
//
// Each round runs `--callers` Python processes at once for `--seconds`,
// first through one path, then the other (which goes first alternates);
// a round's ratio is the data plane's calls per second over the portal's.
// The SDK makes a new connection per call (urllib), as users' scripts do.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeOverlay } from '../lib/nginx.mjs';
import {
  base,
  createModelRepo,
  deployOnlineReady,
  median,
  option,
  registerAndBuild,
  spread,
  startPortal,
} from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(option('seconds', '8'));
const rounds = Number(option('rounds', '6'));
const callers = Number(option('callers', '4'));
const out = path.resolve(here, option('out', 'results.json'));
const python = process.env.MLP_BENCH_PYTHON ?? 'python3';

/** One caller process: its calls, latencies and where they went. */
function caller(token, dataPlane) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      python,
      [
        path.join(here, 'predict_loop.py'),
        base,
        token,
        String(seconds),
        dataPlane ? '1' : '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.once('exit', code =>
      code === 0
        ? resolve(JSON.parse(stdout))
        : reject(new Error(`predict_loop.py exited ${code}: ${stderr}`)),
    );
  });
}

/** `--callers` processes through one path at once. */
async function load(token, dataPlane) {
  const results = await Promise.all(
    Array.from({ length: callers }, () => caller(token, dataPlane)),
  );
  const latencies = results.flatMap(r => r.latenciesMs).sort((a, b) => a - b);
  const calls = results.reduce((n, r) => n + r.calls, 0);
  return {
    urls: [...new Set(results.map(r => r.url))],
    callsPerSecond: Math.round((calls / seconds) * 10) / 10,
    p50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] * 100) / 100,
    p99Ms:
      Math.round(latencies[Math.floor(latencies.length * 0.99)] * 100) / 100,
  };
}

const native = await nativeOverlay();
const portal = await startPortal({
  overlay: [
    path.join(here, '../gateway/app-config.bench.yaml'),
    native.overlay,
  ],
  env: { MLP_BENCH_MONITORING: 'true', MLP_BENCH_EVENTS: 'true' },
});
const result = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
  seconds,
  callers,
  rounds: [],
};
try {
  const { api, headers } = portal;
  const token = headers.Authorization.replace(/^Bearer /, '');
  const gateway = await api('GET', '/gateway');
  if (gateway.nativeDataPlane.state !== 'running') {
    throw new Error(
      `the native data plane is not running: ${JSON.stringify(gateway)}`,
    );
  }
  const repo = createModelRepo(portal.tmp);
  const build = await registerAndBuild(api, 'churn', repo.url);
  await deployOnlineReady(api, build.id);
  // Warm-up: both paths, untimed.
  await load(token, true);
  await load(token, false);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [true, false] : [false, true];
    const round = {};
    for (const dataPlane of order) {
      round[dataPlane ? 'dataPlane' : 'portal'] = await load(token, dataPlane);
    }
    if (!round.dataPlane.urls.every(u => u === native.url)) {
      throw new Error(
        `the SDK did not use the data plane: ${round.dataPlane.urls}`,
      );
    }
    round.ratio =
      Math.round(
        (round.dataPlane.callsPerSecond / round.portal.callsPerSecond) * 1000,
      ) / 1000;
    result.rounds.push(round);
    console.error(
      `round ${r + 1}: data plane ${round.dataPlane.callsPerSecond}/s (p50 ${
        round.dataPlane.p50Ms
      } ms), portal ${round.portal.callsPerSecond}/s (p50 ${
        round.portal.p50Ms
      } ms): ${round.ratio}`,
    );
  }
  const values = key => result.rounds.map(key);
  const thousandths = x => Math.round(x * 1000) / 1000;
  const ratios = spread(values(r => r.ratio));
  result.summary = {
    dataPlaneOverPortal: { ...ratios, median: thousandths(ratios.median) },
    callsPerSecond: {
      dataPlane: median(values(r => r.dataPlane.callsPerSecond)),
      portal: median(values(r => r.portal.callsPerSecond)),
    },
    p50Ms: {
      dataPlane: thousandths(median(values(r => r.dataPlane.p50Ms))),
      portal: thousandths(median(values(r => r.portal.p50Ms))),
    },
  };
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result.summary, null, 2));
} finally {
  await portal.stop();
  portal.cleanup();
  native.cleanup();
}
