#!/usr/bin/env node
// From `git push` of the example churn model to "build succeeded", through
// the push event path (a GitHub push webhook posted to the events ingress)
// and through polling (git ls-remote every 5 s), against the real portal
// backend on its embedded defaults. Prints a table and writes results.json.
//
//   node bench/builds/push-to-build.mjs [--runs 5]
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  base,
  createModelRepo,
  git,
  median,
  registerAndBuild,
  startPortal,
  waitUntil,
} from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const portal = await startPortal({
  overlay: path.join(here, 'app-config.bench.yaml'),
});
const { api } = portal;

try {
  const repo = createModelRepo(portal.tmp);
  // Registered once; its first commit's build is not measured.
  await registerAndBuild(api, 'churn', repo.url);
  const results = { event: [], poll: [] };
  const findBuild = async sha =>
    (await api('GET', '/models/default/churn/builds?limit=50')).items.find(
      b => b.commitSha === sha,
    );

  for (let i = 0; i < runs; i++) {
    for (const trigger of ['event', 'poll']) {
      fs.appendFileSync(
        path.join(repo.work, 'README.md'),
        `\nrun ${trigger} ${i}\n`,
      );
      git(['commit', '-qam', `bench ${trigger} ${i}`], repo.work);
      const t0 = performance.now();
      git(['push', '-q', 'origin', 'HEAD:main'], repo.work);
      const sha = git(['rev-parse', 'HEAD'], repo.work);
      const pushed = performance.now();
      if (trigger === 'event') {
        const body = JSON.stringify({
          ref: 'refs/heads/main',
          after: sha,
          deleted: false,
          repository: { clone_url: repo.url },
          pusher: { name: 'bench' },
          head_commit: {
            id: sha,
            message: `bench ${i}`,
            author: { name: 'Bench', email: 'b@x' },
          },
        });
        // Signed with the overlay's events.modules.github.webhookSecret.
        const signature = `sha256=${createHmac('sha256', 'bench-webhook-secret')
          .update(body)
          .digest('hex')}`;
        const res = await fetch(`${base}/api/events/http/github`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-GitHub-Event': 'push',
            'X-Hub-Signature-256': signature,
          },
          body,
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
      results[trigger].push({
        pushMs: Math.round(pushed - t0),
        triggerMs: Math.round(tQueued - pushed),
        buildMs: Math.round(tDone - tQueued),
        totalMs: Math.round(tDone - t0),
        steps: Object.fromEntries(done.steps.map(s => [s.name, s.durationMs])),
      });
      console.log(trigger, i, results[trigger].at(-1));
    }
  }

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
  await portal.stop();
  portal.cleanup();
}
