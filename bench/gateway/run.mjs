#!/usr/bin/env node
// Latency and throughput through the gateway versus straight to a replica,
// measured in one run with autocannon on loopback, plus deploy-to-ready and
// cold-start times. Writes bench/gateway/results.json.
//
//   node bench/gateway/run.mjs [--duration 10] [--rounds 5]
import autocannon from 'autocannon';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  base,
  createModelRepo,
  median,
  registerAndBuild,
  sleep,
  startPortal,
  waitUntil,
} from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const duration =
  Number(process.argv[process.argv.indexOf('--duration') + 1]) || 10;
// Throughput rounds: this VM drifts by tens of percent within minutes, so
// the ratio is the median of each round's gateway/direct, not of totals.
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const portal = await startPortal({
  overlay: path.join(here, 'app-config.bench.yaml'),
});
const { api, headers } = portal;

const row = {
  tenure_months: 18,
  monthly_charges: 70.25,
  total_charges: 1264.5,
  contract: 'one-year',
  support_calls: 1,
  has_internet: true,
};
const v2 = JSON.stringify({
  inputs: Object.entries({
    tenure_months: 'INT64',
    monthly_charges: 'FP64',
    total_charges: 'FP64',
    contract: 'BYTES',
    support_calls: 'INT64',
    has_internet: 'BOOL',
  }).map(([name, datatype]) => ({
    name,
    datatype,
    shape: [1],
    data: [row[name]],
  })),
});

function run(url, connections, extraHeaders = {}) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        body: v2,
        headers: { 'Content-Type': 'application/json', ...extraHeaders },
        connections,
        duration,
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

try {
  const repo = createModelRepo(portal.tmp);
  const build = await registerAndBuild(api, 'churn', repo.url);

  // Deploy-to-ready: from the POST to the first replica answering.
  const deployTimes = [];
  let deployment;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    deployment = await api('POST', '/models/default/churn/deployments', {
      buildId: build.id,
      type: 'online',
      replicas: 1,
      minReplicas: 1,
    });
    await waitUntil(
      async () =>
        (await api('GET', `/deployments/${deployment.id}`)).status === 'ready',
      60_000,
      'ready',
      10,
    );
    deployTimes.push(performance.now() - t0);
    if (i < 2) await api('DELETE', `/deployments/${deployment.id}`);
    await sleep(500);
  }
  const replica = (await api('GET', `/deployments/${deployment.id}`))
    .replicaStatus[0].url;
  const gatewayUrl = `${base}/api/ml-platform/v2/models/churn/infer`;
  const directUrl = `${replica}/v2/models/churn/infer`;

  // Warm both paths, then alternate so drift hits both equally.
  await run(directUrl, 1);
  await run(gatewayUrl, 1, { Authorization: headers.Authorization });
  const results = { latency: [], throughput: [] };
  for (const [kind, connections] of [
    ['latency', 1],
    ['throughput', 8],
  ]) {
    for (let round = 0; round < (kind === 'throughput' ? rounds : 2); round++) {
      const direct = await run(directUrl, connections);
      const gateway = await run(gatewayUrl, connections, {
        Authorization: headers.Authorization,
      });
      results[kind].push({
        connections,
        direct: {
          rps: direct.requests.average,
          p50: direct.latency.p50,
          p99: direct.latency.p99,
          errors: direct.errors + direct.non2xx,
        },
        gateway: {
          rps: gateway.requests.average,
          p50: gateway.latency.p50,
          p99: gateway.latency.p99,
          errors: gateway.errors + gateway.non2xx,
        },
      });
      console.log(kind, round, results[kind].at(-1));
    }
  }

  // Sub-millisecond latency, alternating paths.
  const sequential = [];
  for (let round = 0; round < 3; round++) {
    const direct = await sequentialLatency(directUrl, 2000);
    const gateway = await sequentialLatency(gatewayUrl, 2000, {
      Authorization: headers.Authorization,
    });
    sequential.push({ direct, gateway });
    console.log('sequential', round, sequential.at(-1));
  }

  // Cold start: scale to zero (5 s idle), then time one request.
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
    const res = await fetch(gatewayUrl, { method: 'POST', headers, body: v2 });
    if (res.status !== 200)
      throw new Error(`cold request answered ${res.status}`);
    coldStarts.push(performance.now() - t0);
  }

  const pick = (kind, k) => median(results[kind].map(r => r.gateway[k]));
  const pickD = (kind, k) => median(results[kind].map(r => r.direct[k]));
  const directP50 = median(sequential.map(r => r.direct.p50us));
  const gatewayP50 = median(sequential.map(r => r.gateway.p50us));
  const summary = {
    p50AddedMs: (gatewayP50 - directP50) / 1000,
    sequentialLatencyUs: {
      directP50,
      gatewayP50,
      directP99: median(sequential.map(r => r.direct.p99us)),
      gatewayP99: median(sequential.map(r => r.gateway.p99us)),
    },
    autocannonLatencyMs: {
      directP50: pickD('latency', 'p50'),
      gatewayP50: pick('latency', 'p50'),
      directP99: pickD('latency', 'p99'),
      gatewayP99: pick('latency', 'p99'),
    },
    throughput: {
      directRps: pickD('throughput', 'rps'),
      gatewayRps: pick('throughput', 'rps'),
      ratio: median(results.throughput.map(r => r.gateway.rps / r.direct.rps)),
      roundRatios: results.throughput.map(r =>
        Number((r.gateway.rps / r.direct.rps).toFixed(3)),
      ),
    },
    errors: [...results.latency, ...results.throughput].reduce(
      (n, r) => n + r.direct.errors + r.gateway.errors,
      0,
    ),
    deployToReadyMs: {
      median: median(deployTimes),
      runs: deployTimes.map(Math.round),
    },
    coldStartMs: {
      median: median(coldStarts),
      runs: coldStarts.map(Math.round),
    },
    backendStartToReadyMs: Math.round(portal.readyMs),
  };
  console.log(JSON.stringify(summary, null, 2));
  fs.writeFileSync(
    path.join(here, 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        durationSeconds: duration,
        summary,
        results,
        sequential,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await portal.stop();
  portal.cleanup();
}
