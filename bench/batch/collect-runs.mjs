#!/usr/bin/env node
// Issue 18's figures across several full runs of bench/batch/run.mjs: each
// run's vectorised summary (pandas script vs churn-numpy at parallelism 1
// and 2, per-round ratios, CPU seconds, peak memory at 1M and 10M rows), and
// the median with min and max of each ratio across the runs.
//
//   node bench/batch/collect-runs.mjs OUT.json RESULTS.json [RESULTS.json ...]
//
// (run.mjs overwrites bench/batch/results.json: copy it aside after each run.)
import fs from 'node:fs';
import { median } from '../lib/portal.mjs';

const [out, ...files] = process.argv.slice(2);
if (!out || files.length === 0) {
  console.error('usage: collect-runs.mjs OUT.json RESULTS.json...');
  process.exit(2);
}
const runs = files.map(f => {
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  return {
    date: r.date,
    cpus: r.cpus,
    loadavgAtEnd: r.loadavg,
    vectorised: r.summary.vectorised,
    rounds: r.vectorised,
    memoryRatio10mVs1m: r.summary.memoryRatio10mVs1m,
    recordsModel: {
      peakMemoryMiB: r.summary.peakMemoryMiB,
      p2VsP1: r.summary.ratios.p2VsP1,
    },
  };
});
const spread = values => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});
const summary = {
  runs: runs.length,
  p1VsPandasScript: spread(runs.map(r => r.vectorised.ratios.p1VsPandasScript)),
  p2VsPandasScript: spread(runs.map(r => r.vectorised.ratios.p2VsPandasScript)),
  memory10mVs1m: {
    churnNumpyBackend: spread(
      runs.map(r => r.memoryRatio10mVs1m.churnNumpy.backend),
    ),
    churnNumpyWorkers: spread(
      runs.map(r => r.memoryRatio10mVs1m.churnNumpy.workers),
    ),
    churnBackend: spread(runs.map(r => r.memoryRatio10mVs1m.churn.backend)),
    churnWorkers: spread(runs.map(r => r.memoryRatio10mVs1m.churn.workers)),
  },
};
console.log(JSON.stringify(summary, null, 2));
fs.writeFileSync(out, `${JSON.stringify({ summary, runs }, null, 2)}\n`);
