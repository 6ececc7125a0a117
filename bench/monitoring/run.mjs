#!/usr/bin/env node
// How fast `GET models/{ns}/{name}/metrics` answers a 30-day range at
// one-hour steps over 1M recorded calls (embedded store, SQLite), through
// the real portal backend. Writes bench/monitoring/results.json.
//
//   node bench/monitoring/run.mjs [--calls 1000000] [--days 30] [--requests 30] [--runs 3]
//
// The calls are recorded once; each run starts the backend afresh and times
// `--requests` answers per case. A case's figure is the median over runs of
// each run's median, with the runs' spread.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { base, median, root, startPortal, waitUntil } from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const calls = arg('calls', 1_000_000);
const days = arg('days', 30);
const requests = arg('requests', 30);
const runs = arg('runs', 3);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-metrics-'));
const db = path.join(tmp, 'ml-platform.sqlite');
console.log(`recording ${calls} calls over ${days} days into ${db}`);
const seeded = JSON.parse(
  execFileSync(
    process.execPath,
    [
      '--require',
      path.join(
        root,
        'node_modules/@backstage/cli-node/config/nodeTransform.cjs',
      ),
      path.join(here, 'seed.ts'),
      db,
      String(calls),
      String(days),
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  ),
);
console.log('seeded', seeded);

const timeOf = async (query, headers) => {
  const t0 = performance.now();
  const res = await fetch(
    `${base}/api/ml-platform/models/default/churn/metrics?${query}`,
    { headers },
  );
  const body = await res.json();
  const ms = performance.now() - t0;
  if (res.status !== 200)
    throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return { ms, body };
};
const round1 = x => Number(x.toFixed(1));

/** One backend start: every case timed `requests` times. */
async function measureRun() {
  const portal = await startPortal({
    overlay: path.join(here, 'app-config.bench.yaml'),
    env: { MLP_BENCH_METRICS_DIR: tmp },
  });
  try {
    // The catalog must know churn before the route answers.
    await waitUntil(
      async () =>
        (
          await fetch(`${base}/api/ml-platform/models/default/churn`, {
            headers: portal.headers,
          })
        ).ok,
      120_000,
      'the catalog',
      250,
    );
    const to = Math.floor(Date.now() / 1000);
    const cases = {
      '30 d at 1 h': `from=${to - days * 86400}&to=${to}&step=3600`,
      '7 d at 1 h': `from=${to - 7 * 86400}&to=${to}&step=3600`,
      '24 h at 15 min': `from=${to - 86400}&to=${to}&step=900`,
      '1 h at 1 min': `from=${to - 3600}&to=${to}&step=60`,
    };
    const results = {};
    for (const [name, query] of Object.entries(cases)) {
      await timeOf(query, portal.headers); // warm: first call reads the catalog
      const times = [];
      let body;
      for (let i = 0; i < requests; i++) {
        const r = await timeOf(query, portal.headers);
        times.push(r.ms);
        body = r.body;
      }
      times.sort((a, b) => a - b);
      results[name] = {
        medianMs: round1(median(times)),
        p90Ms: round1(times[Math.floor(times.length * 0.9)]),
        minMs: round1(times[0]),
        maxMs: round1(times.at(-1)),
        points: body.timestamps.length,
        requestsInRange: body.summary.requests,
        responseBytes: JSON.stringify(body).length,
      };
      console.log(name, results[name]);
    }
    return results;
  } finally {
    await portal.stop();
    portal.cleanup();
  }
}

try {
  const perRun = [];
  for (let r = 0; r < runs; r++) {
    console.log(`run ${r + 1} of ${runs}`);
    perRun.push({ loadAverage: os.loadavg(), results: await measureRun() });
  }
  const results = {};
  for (const name of Object.keys(perRun[0].results)) {
    const of = key => perRun.map(run => run.results[name][key]);
    const medians = of('medianMs');
    results[name] = {
      medianMs: round1(median(medians)),
      runMedianMs: { min: Math.min(...medians), max: Math.max(...medians) },
      p90Ms: round1(median(of('p90Ms'))),
      points: perRun[0].results[name].points,
      requestsInRange: perRun[0].results[name].requestsInRange,
      responseBytes: perRun[0].results[name].responseBytes,
    };
  }
  console.log(JSON.stringify(results, null, 2));
  fs.writeFileSync(
    path.join(here, 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        loadAverage: os.loadavg(),
        seeded,
        requestsPerCase: requests,
        runs,
        results,
        perRun,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
