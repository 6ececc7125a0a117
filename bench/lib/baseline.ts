/* eslint-disable no-console */
// Runs a measuring script against this checkout and a baseline commit, in
// alternating child processes of one run: the baseline's sources are checked
// out into a temporary git worktree under bench/ (so they resolve this
// checkout's node_modules) and removed at the end. The child gets the root
// to measure in `MLP_BENCH_ROOT` and prints `{ "usPerCall": n,
// "bytesPerCall": n }`.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { arg, commitArg, countArg, median } from './cli';

/**
 * In a child: its process's CPU per call (garbage collection included) over
 * `batches` runs of `batch`, `calls` calls each; prints their median for the
 * parent once `check` passes (it throws when the work was not all done),
 * with the JavaScript heap's bytes allocated per call over all batches (what
 * the young generation has to collect; it does not vary with the machine's
 * load as CPU does).
 */
export async function reportCpuPerCall(
  batches: number,
  calls: number,
  batch: () => Promise<void>,
  check: () => void,
) {
  const perCall: number[] = [];
  const heap = new v8.GCProfiler();
  const heapBefore = v8.getHeapStatistics().used_heap_size;
  heap.start();
  for (let i = 0; i < batches; i++) {
    const before = process.cpuUsage();
    await batch();
    const used = process.cpuUsage(before);
    perCall.push((used.user + used.system) / calls);
  }
  const heapAfter = v8.getHeapStatistics().used_heap_size;
  // Allocated: the heap's growth between collections, plus since the last.
  let allocated = 0;
  let used = heapBefore;
  for (const gc of heap.stop().statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - used;
    used = gc.afterGC.heapStatistics.usedHeapSize;
  }
  allocated += heapAfter - used;
  check();
  process.stdout.write(
    JSON.stringify({
      usPerCall: median(perCall),
      bytesPerCall: Math.round(allocated / (batches * calls)),
      batches: perCall,
    }),
  );
}

/**
 * A benchmark script's entry: in a child, `measure` the root it was given;
 * in the parent, compare this checkout with the baseline.
 */
export function runBaselineComparison(
  script: string,
  calls: number,
  measure: (root: string) => Promise<void>,
) {
  const root = process.env.MLP_BENCH_ROOT;
  Promise.resolve()
    .then(() => (root ? measure(root) : compareWithBaseline(script, calls)))
    .catch(error => {
      console.error(error);
      process.exit(1);
    });
}

/**
 * In the parent: `--baseline <commit> [--rounds 3] [--out F]`, one child
 * per side and round (which goes first alternates), the ratio per round
 * (this checkout over the baseline) and their median.
 */
function compareWithBaseline(script: string, calls: number) {
  const baseline = commitArg('baseline');
  const rounds = countArg('rounds', 3);
  const out = arg('out', '');
  const repo = path.resolve(__dirname, '../..');
  const worktree = path.join(repo, 'bench', `.baseline-${process.pid}`);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: repo,
    encoding: 'utf8',
  }).trim();
  execFileSync(
    'git',
    ['worktree', 'add', '--detach', '-q', worktree, '--', baseline],
    { cwd: repo },
  );
  try {
    const run = (root: string) => {
      const result = spawnSync(
        process.execPath,
        [
          '--require',
          require.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
          script,
        ],
        { env: { ...process.env, MLP_BENCH_ROOT: root }, encoding: 'utf8' },
      );
      if (result.status !== 0) {
        throw new Error(`the child for ${root} failed: ${result.stderr}`);
      }
      return JSON.parse(result.stdout) as {
        usPerCall: number;
        bytesPerCall: number;
      };
    };
    const results: Array<{
      baseline: number;
      current: number;
      ratio: number;
      baselineBytes: number;
      currentBytes: number;
    }> = [];
    for (let round = 0; round < rounds; round++) {
      const [first, second] = round % 2 ? [repo, worktree] : [worktree, repo];
      const a = run(first);
      const b = run(second);
      const base = first === worktree ? a : b;
      const current = first === worktree ? b : a;
      results.push({
        baseline: base.usPerCall,
        current: current.usPerCall,
        ratio: current.usPerCall / base.usPerCall,
        baselineBytes: base.bytesPerCall,
        currentBytes: current.bytesPerCall,
      });
      console.error(
        `round ${round + 1}: baseline ${base.usPerCall.toFixed(2)} µs, ${
          base.bytesPerCall
        } B, ${commit} ${current.usPerCall.toFixed(2)} µs, ${
          current.bytesPerCall
        } B per call (${(current.usPerCall / base.usPerCall).toFixed(3)})`,
      );
    }
    const ratios = results.map(r => r.ratio);
    const summary = {
      date: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
      commit,
      baseline,
      calls,
      rounds: results,
      median: {
        baselineUsPerCall: median(results.map(r => r.baseline)),
        currentUsPerCall: median(results.map(r => r.current)),
        ratio: median(ratios),
        ratioRange: [Math.min(...ratios), Math.max(...ratios)],
        baselineBytesPerCall: median(results.map(r => r.baselineBytes)),
        currentBytesPerCall: median(results.map(r => r.currentBytes)),
      },
    };
    console.log(JSON.stringify(summary.median));
    if (out) fs.writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', worktree], {
      cwd: repo,
    });
  }
}
