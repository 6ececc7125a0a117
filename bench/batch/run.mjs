#!/usr/bin/env node
// Batch executions on the real portal backend: trigger-to-first-chunk
// latency, rows/s on 1M rows at parallelism 1 and 2 against one Python
// process doing the same work in-process (inprocess.py: read the CSV, convert,
// predict, write the JSON lines), and peak memory at 100k and 1M rows.
// Writes bench/batch/results.json.
//
//   node bench/batch/run.mjs [--rounds 5]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { writeChurnCsv } from '../lib/datasets.mjs';
import {
  createModelRepo,
  median,
  registerAndBuild,
  root,
  sleep,
  startPortal,
  waitUntil,
} from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// 1M-row rounds per parallelism, alternating: this VM drifts within minutes.
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const inputs = path.join(os.tmpdir(), 'mlp-bench-datasets');
fs.mkdirSync(inputs, { recursive: true });
const datasets = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000 };
for (const [name, n] of Object.entries(datasets)) {
  console.log(`dataset ${name}...`);
  await writeChurnCsv(path.join(inputs, `churn-${name}.csv`), n);
}

// The same work in one Python process, with the model's schema as the build
// writes it; before the backend starts, so nothing else runs meanwhile.
const modelDir = path.join(root, 'examples/models/churn');
const schemaFile = path.join(inputs, 'churn-schema.json');
const manifest = YAML.parse(
  fs.readFileSync(path.join(modelDir, 'mlmodel.yaml'), 'utf8'),
);
fs.writeFileSync(schemaFile, JSON.stringify(manifest.spec.schema));
const inProcess = [0, 1, 2].map(() =>
  JSON.parse(
    execFileSync(
      'python3',
      [
        path.join(here, 'inprocess.py'),
        modelDir,
        schemaFile,
        path.join(inputs, 'churn-1m.csv'),
        '10000',
      ],
      {
        encoding: 'utf8',
      },
    ),
  ),
);
console.log(
  'in-process',
  inProcess.map(r => Math.round(r.pipeline.rowsPerSecond)),
);

const portal = await startPortal({
  overlay: path.join(here, 'app-config.bench.yaml'),
  env: { MLP_BENCH_INPUTS: inputs },
});
const { api } = portal;

/** Resident memory of the backend's node processes and of its python workers, in MiB. */
function memorySample() {
  const rows = execFileSync('ps', ['-eo', 'pid=,pgid=,rss=,args='], {
    encoding: 'utf8',
  }).split('\n');
  let backend = 0;
  let workers = 0;
  for (const line of rows) {
    const [, pgid, rss, ...args] = line.trim().split(/\s+/);
    const cmd = args.join(' ');
    if (Number(pgid) === portal.backendPid && /node/.test(cmd))
      backend = Math.max(backend, Number(rss) / 1024);
    if (/mlp_runtime\.batch/.test(cmd)) workers += Number(rss) / 1024;
  }
  return { backend, workers };
}

async function execute(body, { sampleMemory = false, pollMs = 20 } = {}) {
  const t0 = performance.now();
  const created = await api('POST', '/models/default/churn/executions', body);
  const peak = { backend: 0, workers: 0 };
  let firstInvokedMs;
  let firstDoneMs;
  const done = await waitUntil(
    async () => {
      if (sampleMemory) {
        const m = memorySample();
        peak.backend = Math.max(peak.backend, m.backend);
        peak.workers = Math.max(peak.workers, m.workers);
      }
      if (firstDoneMs === undefined) {
        const { items } = await api('GET', `/executions/${created.id}/chunks`);
        if (
          firstInvokedMs === undefined &&
          items.some(c => c.status !== 'pending')
        )
          firstInvokedMs = performance.now() - t0;
        if (items.some(c => c.status === 'succeeded'))
          firstDoneMs = performance.now() - t0;
      }
      const e = await api('GET', `/executions/${created.id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(e.status)
        ? e
        : undefined;
    },
    1_800_000,
    'execution',
    pollMs,
  );
  if (done.status !== 'succeeded')
    throw new Error(`execution ${done.status}: ${done.error}`);
  // The backend's own record, from the POST to the stored result.
  const serverSeconds =
    (Date.parse(done.finishedAt) - Date.parse(done.createdAt)) / 1000;
  return {
    seconds: (performance.now() - t0) / 1000,
    serverSeconds,
    firstInvokedMs,
    firstDoneMs,
    peak,
    execution: done,
  };
}

try {
  const repo = createModelRepo(portal.tmp);
  const build = await registerAndBuild(api, 'churn', repo.url);
  await api('POST', '/models/default/churn/deployments', {
    buildId: build.id,
    type: 'batch',
  });
  const input = name => ({
    type: 'path',
    path: path.join(inputs, `churn-${name}.csv`),
  });
  const output = { type: 'file', format: 'jsonl' };

  // Trigger to first chunk: a small input, model already built.
  const firstChunk = [];
  for (let i = 0; i < 5; i++) {
    const r = await execute({
      input: input('10k'),
      output,
      chunkSize: 1000,
      parallelism: 2,
    });
    firstChunk.push({
      invokedMs: Math.round(r.firstInvokedMs),
      doneMs: Math.round(r.firstDoneMs),
      totalMs: Math.round(r.seconds * 1000),
    });
    console.log('first chunk', firstChunk.at(-1));
  }

  // Throughput at parallelism 1 and 2 on 1M rows, alternating. Timed by the
  // backend's createdAt/finishedAt; polled every 250 ms only to see the end,
  // since each status request costs the backend ~7 ms of CPU (at 20 ms that
  // would take a third of a core from the run being measured).
  const throughput = { 1: [], 2: [] };
  const clientSeconds = { 1: [], 2: [] };
  for (let round = 0; round < rounds; round++) {
    for (const parallelism of [1, 2]) {
      const r = await execute(
        { input: input('1m'), output, chunkSize: 10_000, parallelism },
        { pollMs: 250 },
      );
      throughput[parallelism].push(1_000_000 / r.serverSeconds);
      clientSeconds[parallelism].push(Math.round(r.seconds * 1000) / 1000);
      console.log(
        `1M rows, parallelism ${parallelism}: ${r.serverSeconds.toFixed(
          2,
        )} s, ${(1_000_000 / r.serverSeconds).toFixed(0)} rows/s`,
      );
    }
  }

  // Peak memory while running 100k and 1M rows (same backend, one after the other).
  const memory = {};
  for (const name of ['100k', '1m']) {
    const r = await execute(
      { input: input(name), output, chunkSize: 10_000, parallelism: 2 },
      { sampleMemory: true },
    );
    memory[name] = {
      backendMiB: Math.round(r.peak.backend),
      workersMiB: Math.round(r.peak.workers),
    };
    console.log('memory', name, memory[name]);
  }

  const p1 = median(throughput[1]);
  const p2 = median(throughput[2]);
  const pipeline = median(inProcess.map(r => r.pipeline.rowsPerSecond));
  const predictOnly = median(inProcess.map(r => r.predictOnly.rowsPerSecond));
  const summary = {
    triggerToFirstChunk: {
      medianInvokedMs: median(firstChunk.map(r => r.invokedMs)),
      medianDoneMs: median(firstChunk.map(r => r.doneMs)),
      runs: firstChunk,
    },
    rowsPerSecond: {
      parallelism1: Math.round(p1),
      parallelism2: Math.round(p2),
      inProcessPipeline: Math.round(pipeline),
      inProcessPredictOnly: Math.round(predictOnly),
    },
    ratios: {
      p1VsInProcessPipeline: p1 / pipeline,
      p1VsInProcessPredictOnly: p1 / predictOnly,
      p2VsP1: median(throughput[2].map((t, i) => t / throughput[1][i])),
      p2VsP1Rounds: throughput[2].map((t, i) =>
        Number((t / throughput[1][i]).toFixed(3)),
      ),
    },
    peakMemoryMiB: memory,
    memoryRatio1mVs100k: {
      backend: memory['1m'].backendMiB / memory['100k'].backendMiB,
      workers: memory['1m'].workersMiB / memory['100k'].workersMiB,
    },
  };
  console.log(JSON.stringify(summary, null, 2));
  fs.writeFileSync(
    path.join(here, 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        summary,
        throughput,
        clientSeconds,
        inProcess,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await portal.stop();
  portal.cleanup();
  await sleep(100);
}
