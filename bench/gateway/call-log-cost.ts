/* eslint-disable no-console */
// What the backend spends per call of the native data plane to read it from
// nginx's call log and record it, this checkout against a baseline commit,
// in alternating child processes of one run (bench/lib/baseline.ts).
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/gateway/call-log-cost.ts --baseline <commit> [--rounds 3] [--out F]
//
// Each child parses call log records as mlp_gateway.lua writes them (1-row
// churn V2 calls, both bodies; 1,000 records per read, as one 200 ms tick
// brings at 5,000 calls/s) with the root's `parseCallLog`, turns each into
// the invocation NginxGateway hands the gateway, and records it as
// `Gateway.recordForwarded` does with monitoring on and prediction events
// off: the Reconciler's `noteRequest` and the MetricsRecorder's
// `recordCall` (answers read for the distribution at its default budget),
// flushed to a store that keeps nothing. It reports the median of 16
// batches of 20,000 calls, in µs of its process's CPU per call (garbage
// collection included).
import path from 'node:path';
import { reportCpuPerCall, runBaselineComparison } from '../lib/baseline';
import { churnCall, silentLogger } from '../lib/churnCall';

const BATCHES = 16;
const CALLS = 20_000;
const PER_READ = 1_000;
const CALLS_PER_SECOND = 5_000;

async function measure(root: string) {
  const src = path.join(root, 'plugins/ml-platform-backend/src');
  const { parseCallLog } = require(path.join(src, 'gateway/nginx/CallLog'));
  const { MetricsRecorder } = require(path.join(
    src,
    'monitoring/MetricsRecorder',
  ));
  const { Reconciler } = require(path.join(src, 'deployments/Reconciler'));
  const { request, answer } = churnCall();
  const logger = silentLogger;

  const start = Date.now() / 1000;
  /** One read's worth of records, as the Lua writes them, from call `first`. */
  const read = (first: number) =>
    Buffer.concat(
      Array.from({ length: PER_READ }, (_, i) => {
        const n = first + i;
        const header = [
          '0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b',
          '0190a3b4-0000-7e8f-9a0b-1c2d3e4f5a6b',
          'component:default/churn',
          'v2',
          'user',
          'user:default/guest',
          '200',
          String(700 + (n % 600)),
          String(1 + (n % 8)),
          (start + n / CALLS_PER_SECOND).toFixed(3),
          String(request.length),
          String(answer.length),
          String(answer.length),
        ];
        return Buffer.concat([
          Buffer.from(`${header.join('\t')}\t`),
          request,
          answer,
          Buffer.from('\n'),
        ]);
      }),
    );
  let flushed = 0;
  const recorder = new MetricsRecorder({
    store: {
      async add(batch: { calls?: unknown[] }) {
        flushed += batch.calls?.length ?? 0;
      },
    },
    versions: { get: async () => 3 },
    logger,
  });
  const reconciler = new Reconciler({
    // Only noteRequest runs here, which touches none of these: a store,
    // runtime or package call would throw, not pass unmeasured.
    stores: {} as any,
    runtime: {} as any,
    packages: {} as any,
    logger,
    scaleToZeroAfterMs: 60_000,
    claimStaleAfterMs: 60_000,
  });
  // This checkout's forwardedInvocation on both sides: the baseline may
  // build the same invocation inline (NginxGateway.record).
  const {
    forwardedInvocation,
  } = require('../../plugins/ml-platform-backend/src/gateway/nginx/CallLog');
  let recorded = 0;
  const onCall = (call: any) => {
    // Gateway.recordForwarded, with monitoring on and events off.
    const invocation = forwardedInvocation(call);
    reconciler.noteRequest(invocation.deploymentId);
    recorder.recordCall(invocation);
    recorded++;
  };
  const corrupt = () => {
    throw new Error('a record did not add up');
  };
  // One batch of reads, written before the clock starts (as nginx writes
  // them); every batch reads them again.
  const reads = Array.from({ length: CALLS / PER_READ }, (_, i) =>
    read(i * PER_READ),
  );
  await reportCpuPerCall(
    BATCHES,
    CALLS,
    async () => {
      for (const buf of reads) {
        if (parseCallLog(buf, onCall, corrupt) !== buf.length) corrupt();
        // The answers read for the distribution are read after the tick.
        await new Promise(resolve => setImmediate(resolve));
      }
      await recorder.flush();
    },
    () => {
      if (recorded !== BATCHES * CALLS || flushed === 0) {
        throw new Error(
          `recorded ${recorded} calls, flushed ${flushed} series`,
        );
      }
    },
  );
}

runBaselineComparison(__filename, BATCHES * CALLS, measure);
