/* eslint-disable no-console */
// The prediction event recorder's CPU per call, this checkout against a
// baseline commit, in alternating child processes of one run.
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/events/recorder.ts --baseline <commit> [--rounds 3] [--out F]
//
// The baseline's sources are checked out into a temporary git worktree
// under bench/ (so they resolve this checkout's node_modules) and removed
// at the end. Each child records churn V2 calls (both bodies kept, as with
// the default sampleRate of 1) into a PredictionEventRecorder with the real
// events service (a subscriber that never reads the events: the message is
// handed over, as to the Kafka module) and a store that takes the encoded
// segments without writing them: what is measured is the recorder's own
// work (events encoded, published, segments built), not SQLite's. A child
// reports the median of 16 batches of 20,000 calls, in µs of its process's
// CPU per call (garbage collection included); a round is one child per
// side; the ratio is per round, this checkout over the baseline.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { arg, commitArg, countArg, median } from '../lib/cli';

const BATCHES = 16;
const CALLS = 20_000;

/** In a child: the recorder under `root`, measured. */
async function measure(root: string) {
  const { PredictionEventRecorder } = require(path.join(
    root,
    'plugins/ml-platform-backend/src/events/PredictionEventRecorder',
  ));
  const { DefaultEventsService } = require('@backstage/plugin-events-node');
  const churn = require('../lib/churnCustomer.json');
  const {
    churnV2Body,
  } = require('../../plugins/ml-platform-backend/src/__testUtils__/churnReference');
  const logger: any = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child: () => logger,
  };
  const request = Buffer.from(JSON.stringify(churnV2Body([churn])));
  const response = Buffer.from(
    JSON.stringify({
      model_name: 'churn',
      model_version: '3',
      outputs: [
        {
          name: 'churn_probability',
          datatype: 'FP64',
          shape: [1],
          data: [0.4123],
        },
        { name: 'churn', datatype: 'BOOL', shape: [1], data: [false] },
      ],
    }),
  );
  let stored = 0;
  let published = 0;
  const events = DefaultEventsService.create({ logger });
  await events.subscribe({
    id: 'bench',
    topics: ['ml-platform.prediction'],
    onEvent: async () => {
      published++;
    },
  });
  const recorder = new PredictionEventRecorder({
    settings: {
      enabled: true,
      sampleRate: 1,
      maxPayloadBytes: 64 * 1024,
      redactFields: [],
      publish: true,
      publishBatchSize: 100,
      flushIntervalMs: 1000,
      flushSize: 500,
      maxBuffered: 20_000,
      retentionMs: 86_400_000,
    },
    store: {
      async insertSegments(segments: Array<{ count: number }>) {
        for (const s of segments) stored += s.count;
      },
      async insertEvents() {},
      async listEvents() {
        return [];
      },
      async deleteBefore() {
        return 0;
      },
    },
    events,
    versionOf: async () => 3,
    logger,
  });
  // As the native data plane's calls come: views of one read of its log.
  const call = () => ({
    modelRef: 'component:default/churn',
    deploymentId: 'd-0190a3b4',
    buildId: 'b-0190a3b4',
    protocol: 'v2',
    route: 'v2',
    callerKind: 'user',
    caller: 'user:default/guest',
    status: 200,
    latencyMs: 1.234,
    requestBytes: request.length,
    responseBytes: response.length,
    attempts: 1,
    coldStart: false,
    inFlight: 1,
    request: Buffer.from(request),
    response: Buffer.from(response),
    endedAt: Date.now(),
  });
  const perCall: number[] = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const before = process.cpuUsage();
    for (let i = 0; i < CALLS; i += 100) {
      for (let j = 0; j < 100; j++) recorder.recordCall(call());
      await recorder.flush();
    }
    const used = process.cpuUsage(before);
    perCall.push((used.user + used.system) / CALLS);
  }
  if (stored !== BATCHES * CALLS || published === 0) {
    throw new Error(`stored ${stored} events, published ${published}`);
  }
  process.stdout.write(
    JSON.stringify({ usPerCall: median(perCall), batches: perCall }),
  );
}

async function main() {
  const child = process.env.MLP_RECORDER_BENCH_ROOT;
  if (child) {
    await measure(child);
    return;
  }
  const baseline = commitArg('baseline');
  const rounds = countArg('rounds', 3);
  const out = arg('out', '');
  const repo = path.resolve(__dirname, '../..');
  const worktree = path.join(
    repo,
    'bench',
    `.recorder-baseline-${process.pid}`,
  );
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: repo,
    encoding: 'utf8',
  }).trim();
  execFileSync(
    'git',
    ['worktree', 'add', '--detach', '-q', worktree, '--', baseline],
    {
      cwd: repo,
    },
  );
  try {
    const run = (root: string) => {
      const result = spawnSync(
        process.execPath,
        [
          '--require',
          require.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
          __filename,
        ],
        {
          env: { ...process.env, MLP_RECORDER_BENCH_ROOT: root },
          encoding: 'utf8',
        },
      );
      if (result.status !== 0) {
        throw new Error(`the child for ${root} failed: ${result.stderr}`);
      }
      return JSON.parse(result.stdout).usPerCall as number;
    };
    const results: Array<{ baseline: number; current: number; ratio: number }> =
      [];
    for (let round = 0; round < rounds; round++) {
      // Alternating which side goes first.
      const [first, second] = round % 2 ? [repo, worktree] : [worktree, repo];
      const a = run(first);
      const b = run(second);
      const base = first === worktree ? a : b;
      const current = first === worktree ? b : a;
      results.push({ baseline: base, current, ratio: current / base });
      console.error(
        `round ${round + 1}: baseline ${base.toFixed(
          2,
        )} µs, ${commit} ${current.toFixed(2)} µs per call (${(
          current / base
        ).toFixed(3)})`,
      );
    }
    const ratios = results.map(r => r.ratio);
    const summary = {
      date: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
      commit,
      baseline,
      calls: BATCHES * CALLS,
      rounds: results,
      median: {
        baselineUsPerCall: median(results.map(r => r.baseline)),
        currentUsPerCall: median(results.map(r => r.current)),
        ratio: median(ratios),
        ratioRange: [Math.min(...ratios), Math.max(...ratios)],
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

main().catch(error => {
  console.error(error);
  process.exit(1);
});
