/* eslint-disable no-console */
// The prediction event recorder's CPU per call, this checkout against a
// baseline commit, in alternating child processes of one run.
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/events/recorder.ts --baseline <commit> [--rounds 3] [--out F]
//
// The baseline runs from a temporary git worktree (bench/lib/baseline.ts).
// Each child records churn V2 calls (both bodies kept, as with
// the default sampleRate of 1) into a PredictionEventRecorder with the real
// events service (a subscriber that never reads the events: the message is
// handed over, as to the Kafka module) and a store that takes the encoded
// segments without writing them: what is measured is the recorder's own
// work (events encoded, published, segments built), not SQLite's. A child
// reports the median of 16 batches of 20,000 calls, in µs of its process's
// CPU per call (garbage collection included); a round is one child per
// side; the ratio is per round, this checkout over the baseline.
import path from 'node:path';
import { reportCpuPerCall, runBaselineComparison } from '../lib/baseline';
import { churnCall, silentLogger } from '../lib/churnCall';

const BATCHES = 16;
const CALLS = 20_000;

/** In a child: the recorder under `root`, measured. */
async function measure(root: string) {
  const { PredictionEventRecorder } = require(path.join(
    root,
    'plugins/ml-platform-backend/src/events/PredictionEventRecorder',
  ));
  const { DefaultEventsService } = require('@backstage/plugin-events-node');
  const { request, answer: response } = churnCall();
  const logger = silentLogger;

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
  await reportCpuPerCall(
    BATCHES,
    CALLS,
    async () => {
      for (let i = 0; i < CALLS; i += 100) {
        for (let j = 0; j < 100; j++) recorder.recordCall(call());
        await recorder.flush();
      }
    },
    () => {
      if (stored !== BATCHES * CALLS || published === 0) {
        throw new Error(`stored ${stored} events, published ${published}`);
      }
    },
  );
}

runBaselineComparison(__filename, BATCHES * CALLS, measure);
