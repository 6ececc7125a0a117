/* eslint-disable no-console */
// The embedded default's SQLite file: what a subscribed event's inbox write
// costs the event loop with the write-ahead log checkpointed from a worker
// thread (`WalCheckpointer`, the platform's default) and, as the baseline,
// by the connection that commits (SQLite's default: every 1000 pages).
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/sqlite/run.ts [--rows 20000] [--rounds 5] [--out results.json]
//
// Each round runs both modes back to back, alternating which goes first,
// on a fresh file each: the plugin's migrations, one subscription, then
// `--rows` deliveries through the real store (`insertDeliveries`, as the
// subscription dispatcher writes its inbox) in groups of 1 (events one at
// a time) and of 8 (8 concurrent publishers, as in bench/events). better-
// sqlite3 is synchronous, so each write's wall time is the time the event
// loop is blocked. Reported per mode: µs per delivery and the longest
// single write (a checkpoint's sync stalls the loop for milliseconds);
// per round, the ratio baseline / worker; medians and ranges over rounds.
import knexFactory, { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import churnCustomer from '../lib/churnCustomer.json';
import { migrationsDir } from '../../plugins/ml-platform-backend/src/database/migrations';
import { useSqliteWriteAheadLog } from '../../plugins/ml-platform-backend/src/database/sqliteSettings';
import { DatabaseSubscriptionStore } from '../../plugins/ml-platform-backend/src/database/subscriptions/DatabaseSubscriptionStore';
import { NewDelivery } from '../../plugins/ml-platform-backend/src/database/subscriptions/SubscriptionStore';
import { SqliteConnection } from '../../plugins/ml-platform-backend/src/database/sqlite';
import { uuidv7 } from '../../plugins/ml-platform-backend/src/lib/uuidv7';

const option = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const outOption = () => {
  const i = process.argv.indexOf('--out');
  return i >= 0 ? process.argv[i + 1] : 'results.json';
};
const rows = option('rows', 20_000);
const rounds = option('rounds', 5);
const out = path.resolve(__dirname, outOption());
const GROUPS = [1, 8];
type Mode = 'worker' | 'eventLoop';

/** An order event as bench/events posts it. */
const payload = { orderId: 'o-1', customer: churnCustomer };

async function openStore(dir: string, mode: Mode) {
  const db: Knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(dir, 'ml-platform.sqlite') },
    useNullAsDefault: true,
  });
  const checkpointer = await useSqliteWriteAheadLog(db);
  await db.migrate.latest({ directory: migrationsDir });
  if (mode === 'eventLoop') {
    // As before the worker: the committing connection checkpoints.
    await checkpointer!.stop();
    const connection =
      (await db.client.acquireConnection()) as SqliteConnection;
    connection.pragma('wal_autocheckpoint = 1000');
    await db.client.releaseConnection(connection);
  }
  const store = new DatabaseSubscriptionStore(db);
  await store.createSubscription({
    id: 'sub-1',
    modelRef: 'component:default/churn',
    deploymentId: 'dep-1',
    topic: 'orders',
    mapping: { columns: { tenure_months: '$.customer.tenure_months' } },
    outputTopic: 'ml-platform.prediction.churn',
    enabled: true,
    createdAt: new Date().toISOString(),
  });
  return { db, store };
}

async function measure(mode: Mode, group: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-bench-sqlite-'));
  const { db, store } = await openStore(dir, mode);
  try {
    let seq = 0;
    const batch = (): NewDelivery[] =>
      Array.from({ length: group }, () => {
        const now = Date.now();
        return {
          delivery: {
            id: uuidv7(now),
            subscriptionId: 'sub-1',
            eventKey: `order-${seq++}`,
            topic: 'orders',
            payload,
            nextAttemptAt: now,
            receivedAt: now,
          },
          claim: { owner: 'bench', until: now + 30_000 },
        };
      });
    // Warm the statement cache and the file.
    for (let i = 0; i < 200; i += group) await store.insertDeliveries(batch());
    let longest = 0;
    let total = 0;
    // Writes that blocked the event loop for 5 ms or more.
    let stalls = 0;
    let stalledMs = 0;
    for (let i = 0; i < rows; i += group) {
      const received = batch();
      const t0 = performance.now();
      await store.insertDeliveries(received);
      const took = performance.now() - t0;
      total += took;
      if (took > longest) longest = took;
      if (took >= 5) {
        stalls++;
        stalledMs += took;
      }
    }
    return {
      usPerDelivery: Math.round((total * 1000) / rows),
      longestWriteMs: Number(longest.toFixed(2)),
      stalls,
      stalledMs: Math.round(stalledMs),
    };
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs: number[]) => ({
  median: Number(median(xs).toFixed(3)),
  min: Math.min(...xs),
  max: Math.max(...xs),
});

async function main() {
  const results: Record<string, any[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const group of GROUPS) {
      const modes: Mode[] =
        r % 2 === 0 ? ['worker', 'eventLoop'] : ['eventLoop', 'worker'];
      const round: Record<string, any> = {};
      for (const mode of modes) round[mode] = await measure(mode, group);
      round.ratio = Number(
        (round.eventLoop.usPerDelivery / round.worker.usPerDelivery).toFixed(3),
      );
      (results[`group${group}`] ??= []).push(round);
      console.log(
        `round ${r}, groups of ${group}: checkpoints in the worker ${round.worker.usPerDelivery} µs/delivery (longest write ${round.worker.longestWriteMs} ms; ${round.worker.stalls} writes of 5 ms or more, ${round.worker.stalledMs} ms), on the event loop ${round.eventLoop.usPerDelivery} µs/delivery (longest ${round.eventLoop.longestWriteMs} ms; ${round.eventLoop.stalls} writes of 5 ms or more, ${round.eventLoop.stalledMs} ms)`,
      );
    }
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([key, rs]) => [
      key,
      {
        usPerDelivery: {
          worker: spread(rs.map(x => x.worker.usPerDelivery)),
          eventLoop: spread(rs.map(x => x.eventLoop.usPerDelivery)),
        },
        longestWriteMs: {
          worker: spread(rs.map(x => x.worker.longestWriteMs)),
          eventLoop: spread(rs.map(x => x.eventLoop.longestWriteMs)),
        },
        eventLoopOverWorker: spread(rs.map(x => x.ratio)),
      },
    ]),
  );
  const report = {
    rows,
    rounds,
    loadAverage: os.loadavg(),
    summary,
    results,
  };
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(summary, null, 2));
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
