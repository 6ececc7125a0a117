#!/usr/bin/env node
// Batch executions on the real portal backend: trigger-to-first-chunk
// latency, rows/s on 1M rows at parallelism 1 and 2 against one Python
// process doing the same work in-process (inprocess.py: read the CSV, convert,
// predict, write the JSON lines), and peak memory at 100k and 1M rows.
//
// Issue 18, in the same run: the vectorised churn model
// (bench/models/churn-numpy, interface dataframe) at parallelism 1 and 2
// against a plain pandas script on the same 1M-row file in the same round
// (pandas_script.py, timed as a whole process), and peak memory of 1M- and
// 10M-row executions of both models.
// Writes bench/batch/results.json.
//
//   node bench/batch/run.mjs [--rounds 5] [--no-10m] [--vectorised-chunk 100000]
import { execFileSync, spawnSync } from 'node:child_process';
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
const with10m = !process.argv.includes('--no-10m');
/** `mlPlatform.batch.workerIdleTimeout` in app-config.bench.yaml. */
const WORKER_IDLE_MS = 10_000;
// Chunks of the vectorised runs: the pandas script reads 100k rows at a time.
const vectorisedChunk =
  Number(process.argv[process.argv.indexOf('--vectorised-chunk') + 1]) ||
  100_000;
const datasets = {
  '10k': 10_000,
  '100k': 100_000,
  '1m': 1_000_000,
  ...(with10m ? { '10m': 10_000_000 } : {}),
};
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

// The pandas script runs on the interpreter the vectorised model's build uses
// (its spec.python: Debian's python3 with python3-pandas).
const scientificPython = process.env.MLP_BENCH_PYTHON ?? '/usr/bin/python3';
execFileSync(scientificPython, ['-c', 'import numpy, pandas'], {
  stdio: 'inherit',
});
const scriptOutput = path.join(inputs, 'pandas-script-output.jsonl');

/** The pandas script on 1M rows, timed from spawn to exit (interpreter start included). */
function pandasScript() {
  const t0 = performance.now();
  const run = spawnSync(
    scientificPython,
    [
      path.join(here, 'pandas_script.py'),
      path.join(inputs, 'churn-1m.csv'),
      scriptOutput,
    ],
    {
      encoding: 'utf8',
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (run.status !== 0) throw new Error(`pandas script failed: ${run.stderr}`);
  const inside = JSON.parse(run.stdout);
  fs.rmSync(scriptOutput, { force: true });
  return {
    seconds,
    rowsPerSecond: inside.rows / seconds,
    insideSeconds: inside.seconds,
    importSeconds: inside.importSeconds,
    cpuSeconds: inside.cpuSeconds,
  };
}

const portal = await startPortal({
  overlay: path.join(here, 'app-config.bench.yaml'),
  env: { MLP_BENCH_INPUTS: inputs },
});
const { api } = portal;

/**
 * Resident memory of the backend's node processes and of its python workers, in
 * MiB: only processes of the portal's process group (other batch workers on the
 * machine, e.g. other test runs, are not this backend's).
 */
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
    if (Number(pgid) === portal.backendPid && /mlp_runtime\.batch/.test(cmd))
      workers += Number(rss) / 1024;
  }
  return { backend, workers };
}

/**
 * CPU seconds so far of the backend's node process (its own) and of the
 * batch workers it started: reaped children (from the same /proc/<pid>/stat)
 * plus the workers still running (idle workers wait for the next execution of
 * their build, `mlPlatform.batch.workerIdleTimeout`); a worker reaped between
 * two samples moves from one sum to the other.
 */
function cpuSample() {
  const hz = 100; // USER_HZ on Linux
  const rows = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], {
    encoding: 'utf8',
  }).split('\n');
  let backend = 0;
  let children = 0;
  for (const line of rows) {
    const [pid, pgid, ...args] = line.trim().split(/\s+/);
    if (Number(pgid) !== portal.backendPid) continue;
    const command = args.join(' ');
    const worker = /mlp_runtime\.batch/.test(command);
    if (!worker && !/node/.test(command)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime are fields 14-17 (1-based) of the whole line.
      const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
      if (worker) {
        children += (utime + stime) / hz;
      } else {
        backend += (utime + stime) / hz;
        children += (cutime + cstime) / hz;
      }
    } catch {}
  }
  return { backend, workers: children };
}

async function execute(
  body,
  { sampleMemory = false, pollMs = 20, model = 'churn' } = {},
) {
  const t0 = performance.now();
  const cpu0 = cpuSample();
  const created = await api(
    'POST',
    `/models/default/${model}/executions`,
    body,
  );
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
  // Workers are reaped when the execution ends; give the backend a moment.
  await sleep(300);
  const cpu1 = cpuSample();
  const cpuSeconds = {
    backend: cpu1.backend - cpu0.backend,
    workers: cpu1.workers - cpu0.workers,
  };
  return {
    seconds: (performance.now() - t0) / 1000,
    serverSeconds,
    firstInvokedMs,
    firstDoneMs,
    peak,
    cpuSeconds,
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
  const numpyRepo = createModelRepo(
    portal.tmp,
    path.join(root, 'bench/models/churn-numpy'),
  );
  const numpyBuild = await registerAndBuild(api, 'churn-numpy', numpyRepo.url);
  await api('POST', '/models/default/churn-numpy/deployments', {
    buildId: numpyBuild.id,
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

  // Issue 18: the vectorised model at parallelism 1 and 2 against the pandas
  // script on the same file, in the same round (order rotated per round).
  const numpyFirstChunk = [];
  for (let i = 0; i < 3; i++) {
    const r = await execute(
      { input: input('10k'), output, chunkSize: 1000, parallelism: 2 },
      { model: 'churn-numpy' },
    );
    numpyFirstChunk.push({
      invokedMs: Math.round(r.firstInvokedMs),
      doneMs: Math.round(r.firstDoneMs),
      totalMs: Math.round(r.seconds * 1000),
    });
    console.log('churn-numpy first chunk', numpyFirstChunk.at(-1));
  }
  const vectorised = [];
  for (let round = 0; round < rounds; round++) {
    const phases = ['script', 1, 2];
    const order = [...phases.slice(round % 3), ...phases.slice(0, round % 3)];
    const r = { round: round + 1, order };
    for (const phase of order) {
      if (phase === 'script') {
        r.script = pandasScript();
        console.log(
          `pandas script: ${r.script.seconds.toFixed(
            2,
          )} s, ${r.script.rowsPerSecond.toFixed(0)} rows/s`,
        );
      } else {
        const e = await execute(
          {
            input: input('1m'),
            output,
            chunkSize: vectorisedChunk,
            parallelism: phase,
          },
          { pollMs: 250, model: 'churn-numpy' },
        );
        r[`p${phase}`] = {
          seconds: e.serverSeconds,
          rowsPerSecond: 1_000_000 / e.serverSeconds,
          cpuSeconds: e.cpuSeconds,
        };
        console.log(
          `churn-numpy 1M rows, parallelism ${phase}: ${e.serverSeconds.toFixed(
            2,
          )} s, ${(1_000_000 / e.serverSeconds).toFixed(
            0,
          )} rows/s (CPU s: backend ${e.cpuSeconds.backend.toFixed(
            2,
          )}, workers ${e.cpuSeconds.workers.toFixed(2)})`,
        );
      }
    }
    r.p1VsScript = r.p1.rowsPerSecond / r.script.rowsPerSecond;
    r.p2VsScript = r.p2.rowsPerSecond / r.script.rowsPerSecond;
    vectorised.push(r);
  }

  // Peak memory while running 100k, 1M and 10M rows (same backend, one after
  // the other), for the records model and the vectorised one.
  const memory = {};
  const numpyMemory = {};
  for (const [model, sizes, into] of [
    ['churn', ['100k', '1m', ...(with10m ? ['10m'] : [])], memory],
    ['churn-numpy', ['1m', ...(with10m ? ['10m'] : [])], numpyMemory],
  ]) {
    // Idle workers of the other model stop first (workerIdleTimeout in
    // app-config.bench.yaml): the peak is this model's workers only.
    await sleep(WORKER_IDLE_MS + 1000);
    for (const name of sizes) {
      const r = await execute(
        { input: input(name), output, chunkSize: 10_000, parallelism: 2 },
        { sampleMemory: true, pollMs: 100, model },
      );
      into[name] = {
        backendMiB: Math.round(r.peak.backend),
        workersMiB: Math.round(r.peak.workers),
        seconds: r.serverSeconds,
      };
      console.log('memory', model, name, into[name]);
    }
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
    vectorised: {
      model: 'bench/models/churn-numpy (interface dataframe)',
      chunkSize: vectorisedChunk,
      triggerToFirstChunk: {
        medianInvokedMs: median(numpyFirstChunk.map(r => r.invokedMs)),
        runs: numpyFirstChunk,
      },
      rowsPerSecond: {
        pandasScript: Math.round(
          median(vectorised.map(r => r.script.rowsPerSecond)),
        ),
        parallelism1: Math.round(
          median(vectorised.map(r => r.p1.rowsPerSecond)),
        ),
        parallelism2: Math.round(
          median(vectorised.map(r => r.p2.rowsPerSecond)),
        ),
      },
      ratios: {
        p1VsPandasScript: median(vectorised.map(r => r.p1VsScript)),
        p2VsPandasScript: median(vectorised.map(r => r.p2VsScript)),
        p1VsPandasScriptRounds: vectorised.map(r =>
          Number(r.p1VsScript.toFixed(3)),
        ),
        p2VsPandasScriptRounds: vectorised.map(r =>
          Number(r.p2VsScript.toFixed(3)),
        ),
      },
      peakMemoryMiB: numpyMemory,
    },
    ...(with10m
      ? {
          memoryRatio10mVs1m: {
            churn: {
              backend: memory['10m'].backendMiB / memory['1m'].backendMiB,
              workers: memory['10m'].workersMiB / memory['1m'].workersMiB,
            },
            churnNumpy: {
              backend:
                numpyMemory['10m'].backendMiB / numpyMemory['1m'].backendMiB,
              workers:
                numpyMemory['10m'].workersMiB / numpyMemory['1m'].workersMiB,
            },
          },
        }
      : {}),
  };
  console.log(JSON.stringify(summary, null, 2));
  fs.writeFileSync(
    path.join(here, 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        loadavg: os.loadavg(),
        summary,
        throughput,
        clientSeconds,
        inProcess,
        vectorised,
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
