#!/usr/bin/env node
// From `git push` of the example churn model to "build succeeded", through
// the push event path (a GitHub push webhook posted to the events ingress)
// and through polling (git ls-remote every 5 s), against the real portal
// backend on its embedded defaults. Prints a table and writes results.json.
//
//   node bench/builds/push-to-build.mjs [--runs 5]
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const base = 'http://localhost:7007';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-builds-'));
const env = { ...process.env, MLP_BENCH_DATA_DIR: path.join(tmp, 'data') };

const sleep = ms => new Promise(r => setTimeout(r, ms));
const git = (args, cwd) =>
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Bench',
      GIT_AUTHOR_EMAIL: 'b@x',
      GIT_COMMITTER_NAME: 'Bench',
      GIT_COMMITTER_EMAIL: 'b@x',
    },
  })
    .toString()
    .trim();

async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(25);
  }
}

console.log('starting the backend...');
const backend = spawn(
  'yarn',
  [
    'start',
    '--config',
    '../../app-config.yaml',
    '--config',
    path.join(here, 'app-config.bench.yaml'),
  ],
  {
    cwd: path.join(root, 'packages/backend'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  },
);
const backendLog = fs.createWriteStream(path.join(tmp, 'backend.log'));
backend.stdout.pipe(backendLog);
backend.stderr.pipe(backendLog);
const stopBackend = () => {
  try {
    process.kill(-backend.pid, 'SIGTERM');
  } catch {}
};
process.on('exit', stopBackend);

try {
  await waitUntil(
    async () => (await fetch(`${base}/api/ml-platform/models`)).status === 401,
    180_000,
    'backend start',
  );
  const { backstageIdentity } = await (
    await fetch(`${base}/api/auth/guest/refresh`)
  ).json();
  const headers = {
    Authorization: `Bearer ${backstageIdentity.token}`,
    'Content-Type': 'application/json',
  };
  const api = async (method, p, body) => {
    const res = await fetch(`${base}/api/ml-platform${p}`, {
      method,
      headers,
      body: body && JSON.stringify(body),
    });
    if (!res.ok)
      throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  // A repository holding the churn example, as a data scientist's clone.
  const bare = path.join(tmp, 'churn.git');
  const work = path.join(tmp, 'work');
  git(['init', '-q', '--bare', '-b', 'main', bare]);
  git(['clone', '-q', bare, work]);
  fs.cpSync(path.join(root, 'examples/models/churn'), work, {
    recursive: true,
    filter: s => !s.includes('__pycache__'),
  });
  git(['add', '-A'], work);
  git(['commit', '-qm', 'churn'], work);
  git(['push', '-q', 'origin', 'HEAD:main'], work);
  const url = pathToFileURL(bare).href;
  // Registered once; its first commit is built by the poller, not measured.
  await api('POST', '/models/default/churn/register', {
    gitUrl: url,
    defaultBranch: 'main',
  });
  await waitUntil(
    async () =>
      (await api('GET', '/models/default/churn/builds')).items[0]?.status ===
      'succeeded',
    120_000,
    'first build',
  );

  const results = { event: [], poll: [] };
  const findBuild = async sha =>
    (await api('GET', '/models/default/churn/builds?limit=50')).items.find(
      b => b.commitSha === sha,
    );

  for (let i = 0; i < runs; i++) {
    for (const path_ of ['event', 'poll']) {
      fs.appendFileSync(path.join(work, 'README.md'), `\nrun ${path_} ${i}\n`);
      git(['commit', '-qam', `bench ${path_} ${i}`], work);
      const t0 = performance.now();
      git(['push', '-q', 'origin', 'HEAD:main'], work);
      const sha = git(['rev-parse', 'HEAD'], work);
      const pushed = performance.now();
      if (path_ === 'event') {
        const res = await fetch(`${base}/api/events/http/github`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-GitHub-Event': 'push',
          },
          body: JSON.stringify({
            ref: 'refs/heads/main',
            after: sha,
            deleted: false,
            repository: { clone_url: url },
            pusher: { name: 'bench' },
            head_commit: {
              id: sha,
              message: `bench ${i}`,
              author: { name: 'Bench', email: 'b@x' },
            },
          }),
        });
        if (res.status !== 202)
          throw new Error(`ingress answered ${res.status}`);
      }
      const queued = await waitUntil(
        () => findBuild(sha),
        60_000,
        'build queued',
      );
      const tQueued = performance.now();
      const done = await waitUntil(
        async () => {
          const b = await api('GET', `/builds/${queued.id}`);
          return ['succeeded', 'failed'].includes(b.status) ? b : undefined;
        },
        120_000,
        'build done',
      );
      const tDone = performance.now();
      if (done.status !== 'succeeded')
        throw new Error(`build failed: ${done.failureReason}`);
      const steps = Object.fromEntries(
        done.steps.map(s => [s.name, s.durationMs]),
      );
      results[path_].push({
        pushMs: Math.round(pushed - t0),
        triggerMs: Math.round(tQueued - pushed),
        buildMs: Math.round(tDone - tQueued),
        totalMs: Math.round(tDone - t0),
        steps,
      });
      console.log(path_, i, results[path_].at(-1));
    }
  }

  const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = Object.fromEntries(
    Object.entries(results).map(([k, rs]) => [
      k,
      {
        runs: rs.length,
        medianTotalMs: median(rs.map(r => r.totalMs)),
        maxTotalMs: Math.max(...rs.map(r => r.totalMs)),
        medianTriggerMs: median(rs.map(r => r.triggerMs)),
        medianBuildMs: median(rs.map(r => r.buildMs)),
        medianStepsMs: Object.fromEntries(
          Object.keys(rs[0].steps).map(s => [
            s,
            median(rs.map(r => r.steps[s])),
          ]),
        ),
      },
    ]),
  );
  console.table(
    Object.fromEntries(
      Object.entries(summary).map(([k, v]) => [
        k,
        { ...v, medianStepsMs: undefined },
      ]),
    ),
  );
  console.log(JSON.stringify(summary, null, 2));
  fs.writeFileSync(
    path.join(here, 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        summary,
        results,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  stopBackend();
  await sleep(1000);
  fs.rmSync(tmp, { recursive: true, force: true });
}
