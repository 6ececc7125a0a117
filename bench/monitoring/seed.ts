// Records `--calls` gateway calls spread evenly over `--days` days up to
// now into the metrics store of a SQLite file, through the real recorder
// (a controllable clock, a flush every simulated hour) and the retention
// task (minutes older than two days become hours). Run by run.mjs with the
// backend's TypeScript loader:
//
//   node --require @backstage/cli-node/config/nodeTransform.cjs bench/monitoring/seed.ts <file> <calls> <days>
import { LoggerService } from '@backstage/backend-plugin-api';
import knexFactory from 'knex';
import { createDatabaseStores } from '../../plugins/ml-platform-backend/src/database';
import { BuildVersions } from '../../plugins/ml-platform-backend/src/monitoring/BuildVersions';
import { MetricsRecorder } from '../../plugins/ml-platform-backend/src/monitoring/MetricsRecorder';
import { MetricsRetention } from '../../plugins/ml-platform-backend/src/monitoring/MetricsRetention';

const [file, callsArg, daysArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 1_000_000);
const days = Number(daysArg ?? 30);
const HOUR = 3_600_000;

/** Deterministic pseudo-random numbers, so every run records the same calls. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

async function main() {
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
  });
  // A throwaway file: no fsync per flush while seeding.
  await knex.raw('PRAGMA journal_mode = WAL');
  await knex.raw('PRAGMA synchronous = OFF');
  const { metrics: store } = await createDatabaseStores({
    getClient: async () => knex,
  });
  const end = Date.now();
  const start = end - days * 24 * HOUR;
  let now = start;
  const quiet = () => {};
  const logger = {
    info: quiet,
    warn: console.warn,
    error: console.error,
    debug: quiet,
    child: () => logger,
  } as unknown as LoggerService;
  const recorder = new MetricsRecorder({
    store,
    versions: new BuildVersions(async id => ({ version: Number(id.slice(1)) })),
    logger,
    clock: () => now,
  });
  const rand = random(42);
  const records = (p: number) =>
    Buffer.from(
      JSON.stringify({
        predictions: [
          {
            churn_probability: p,
            churn: p >= 0.5,
            kpis: { revenue_at_risk: p * 80 },
          },
        ],
      }),
    );
  const v2 = (p: number) =>
    Buffer.from(
      JSON.stringify({
        model_name: 'churn',
        outputs: [
          {
            name: 'churn_probability',
            shape: [1],
            datatype: 'FP64',
            data: [p],
          },
          { name: 'churn', shape: [1], datatype: 'BOOL', data: [p >= 0.5] },
        ],
      }),
    );
  const interval = (end - start) / calls;
  let nextFlush = start + HOUR;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    now = start + i * interval;
    if (now >= nextFlush) {
      await recorder.flush();
      nextFlush += HOUR;
    }
    const third = Math.min(2, Math.floor((3 * i) / calls));
    const route = i % 2 ? 'v2' : 'records';
    const r = rand();
    const status = r < 0.01 ? 500 : r < 0.015 ? 400 : 200;
    const p = rand();
    recorder.recordCall({
      modelRef: 'component:default/churn',
      deploymentId: 'bench-deployment',
      buildId: `b${third + 1}`,
      route,
      callerKind: i % 3 ? 'service' : 'user',
      status,
      latencyMs: 0.5 + 4 * rand() * rand(),
      inFlight: 1 + Math.floor(rand() * 8),
      response:
        status === 200 ? (route === 'v2' ? v2(p) : records(p)) : undefined,
    });
    if (i % 5000 === 0) await new Promise(resolve => setImmediate(resolve));
  }
  await recorder.flush();
  const recordMs = performance.now() - t0;
  now = end;
  const retention = await new MetricsRetention({
    store,
    rawMs: 2 * 24 * HOUR,
    hourlyMs: 90 * 24 * HOUR,
    logger,
    clock: () => end,
  }).run();
  const count = async (table: string) =>
    Number((await knex(table).count({ n: '*' }))[0].n);
  console.log(
    JSON.stringify({
      calls,
      days,
      recordSeconds: Math.round(recordMs / 100) / 10,
      downsampledRows: retention.downsampled,
      rows: {
        calls: await count('metrics_calls'),
        predictions: await count('metrics_predictions'),
        kpis: await count('metrics_kpis'),
      },
    }),
  );
  await knex.destroy();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
