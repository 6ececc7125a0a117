#!/usr/bin/env node
// From submitting the "New ML model" template (deploy online) to the first
// successful prediction, on the embedded defaults: a guest user in the
// scaffolder, the platform's Git hosting, the local runtime.
// Writes bench/template/results.json.
//
//   node bench/template/run.mjs [--runs 3]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { base, median, startPortal, waitUntil } from '../lib/portal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const portal = await startPortal({
  overlay: path.join(here, 'app-config.bench.yaml'),
});

try {
  const { backstageIdentity } = await (
    await fetch(`${base}/api/auth/guest/refresh`)
  ).json();
  const user = {
    Authorization: `Bearer ${backstageIdentity.token}`,
    'Content-Type': 'application/json',
  };
  await waitUntil(
    async () =>
      (
        await fetch(
          `${base}/api/catalog/entities/by-name/template/default/ml-model`,
          { headers: user },
        )
      ).ok,
    120_000,
    'the template',
    250,
  );

  const results = [];
  for (let i = 0; i < runs; i++) {
    const name = `bench-model-${Date.now().toString(36)}`;
    const t0 = performance.now();
    const task = await (
      await fetch(`${base}/api/scaffolder/v2/tasks`, {
        method: 'POST',
        headers: user,
        body: JSON.stringify({
          templateRef: 'template:default/ml-model',
          values: {
            name,
            owner: 'group:default/data-science',
            starter: 'tabular-classifier',
            destination: 'platform',
            deployOnline: true,
          },
        }),
      })
    ).json();
    const done = await waitUntil(
      async () => {
        const t = await (
          await fetch(`${base}/api/scaffolder/v2/tasks/${task.id}`, {
            headers: user,
          })
        ).json();
        return ['completed', 'failed', 'cancelled'].includes(t.status)
          ? t
          : undefined;
      },
      300_000,
      'the task',
      100,
    );
    if (done.status !== 'completed') throw new Error(`task ${done.status}`);
    const taskMs = performance.now() - t0;
    await waitUntil(
      async () => {
        const res = await fetch(
          `${base}/api/ml-platform/models/default/${name}/predict`,
          {
            method: 'POST',
            headers: user,
            body: JSON.stringify({
              dataframe_records: [
                { tenure_months: 2, monthly_charges: 85, support_calls: 3 },
              ],
            }),
          },
        );
        return res.status === 200;
      },
      120_000,
      'a prediction',
      50,
    );
    const totalMs = performance.now() - t0;
    results.push({
      name,
      taskMs: Math.round(taskMs),
      toFirstPredictionMs: Math.round(totalMs),
    });
    console.log(results.at(-1));
  }
  const summary = {
    medianToFirstPredictionMs: median(results.map(r => r.toFirstPredictionMs)),
    maxToFirstPredictionMs: Math.max(
      ...results.map(r => r.toFirstPredictionMs),
    ),
    medianTaskMs: median(results.map(r => r.taskMs)),
  };
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
