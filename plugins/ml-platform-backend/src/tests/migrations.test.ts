import zlib from 'node:zlib';
import { TestDatabases } from '@backstage/backend-test-utils';
import fs from 'node:fs';
import { Knex } from 'knex';

const migrationsDir = `${__dirname}/../../migrations`;
const migrationsFiles = fs
  .readdirSync(migrationsDir)
  .filter(f => f.endsWith('.js'))
  .sort();

async function migrateUpOnce(knex: Knex): Promise<void> {
  await knex.migrate.up({ directory: migrationsDir });
}

async function migrateDownOnce(knex: Knex): Promise<void> {
  await knex.migrate.down({ directory: migrationsDir });
}

async function migrateUntilBefore(knex: Knex, target: string): Promise<void> {
  const index = migrationsFiles.indexOf(target);
  if (index === -1) {
    throw new Error(`Migration ${target} not found`);
  }
  for (let i = 0; i < index; i++) {
    await migrateUpOnce(knex);
  }
}

const MODEL = 'component:default/churn';
const BUILD = '00000000-0000-4000-8000-000000000001';
const EXECUTION = '00000000-0000-4000-8000-000000000002';
const now = new Date('2026-12-01T10:00:00Z');

const id = (n: number) =>
  `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`;

/** A row in each table of the first migration. */
async function insertInitialRows(knex: Knex) {
  await knex('models').insert({
    entity_ref: MODEL,
    git_url: 'file:///srv/git/churn.git',
    last_build_version: 1,
    registered_at: now,
    updated_at: now,
  });
  await knex('builds').insert({
    id: BUILD,
    model_ref: MODEL,
    version: 1,
    status: 'succeeded',
    trigger: 'api',
    steps: '[]',
    created_at: now,
  });
  await knex('build_logs').insert({
    build_id: BUILD,
    line: 'done',
    created_at: now,
  });
  await knex('executions').insert({
    id: EXECUTION,
    model_ref: MODEL,
    build_id: BUILD,
    status: 'succeeded',
    input: '{"type":"path","path":"x.csv"}',
    output: '{"type":"file","format":"jsonl"}',
    chunk_size: 10,
    parallelism: 1,
    max_retries: 0,
    created_at: now,
  });
  await knex('chunks').insert({
    execution_id: EXECUTION,
    seq: 0,
    row_start: 0,
    row_end: 10,
    status: 'succeeded',
    attempts: 1,
  });
}

function deployment(deploymentId: string, createdAt: Date, status = 'ready') {
  return {
    id: deploymentId,
    model_ref: MODEL,
    build_id: BUILD,
    type: 'online',
    status,
    replicas: 1,
    min_replicas: 1,
    max_replicas: 1,
    ready_replicas: 1,
    created_at: createdAt,
    updated_at: createdAt,
  };
}

/**
 * The write fails on a unique index. Should it not, the table's indexes are
 * in the failure: seen only on SQLite with other suites running alongside.
 */
async function expectUniqueViolation(
  knex: Knex,
  table: string,
  write: () => Promise<unknown>,
) {
  let error: unknown;
  try {
    await write();
  } catch (e) {
    error = e;
  }
  if (!error) {
    const indexes =
      knex.client.config.client === 'pg'
        ? await knex('pg_indexes').where({ tablename: table })
        : await knex.raw(
            `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`,
            [table],
          );
    throw new Error(
      `the write to ${table} was not refused; its indexes: ${JSON.stringify(
        indexes,
      )}`,
    );
  }
  expect(String(error)).toMatch(/unique|duplicate/i);
}

async function counts(knex: Knex, tables: string[]) {
  const result: Record<string, number> = {};
  for (const table of tables) {
    const [{ n }] = await knex(table).count<{ n: number | string }[]>({
      n: '*',
    });
    result[table] = Number(n);
  }
  return result;
}

const METRICS_MIGRATION = '20261203300000_metrics.js';
const METRICS_TABLES = [
  'metrics_calls',
  'metrics_predictions',
  'metrics_kpis',
  'metrics_batch',
  'metrics_replicas',
];

/** A minute row in each table of the metrics migration. */
async function insertMetricsRows(knex: Knex) {
  const series = {
    resolution: 60,
    bucket_start: now.getTime(),
    model_ref: MODEL,
    deployment_id: id(1),
    build_id: BUILD,
    version: 1,
  };
  await knex('metrics_calls').insert({
    ...series,
    route: 'v2',
    caller_kind: 'user',
    requests: 3,
    caller_errors: 1,
    rows: 30,
    latency_sum: 0.012,
    in_flight_max: 2,
    lat_b3: 3,
  });
  await knex('metrics_predictions').insert({
    ...series,
    output: 'churn',
    kind: 'numeric',
    bin: '0.5',
    count: 3,
    value_sum: 1.2,
  });
  await knex('metrics_kpis').insert({
    ...series,
    kpi: 'revenue_at_risk',
    sum: 12.5,
    count: 1,
  });
  await knex('metrics_batch').insert({
    ...series,
    chunks: 2,
    model_errors: 1,
    rows: 20,
    duration_sum: 0.5,
    dur_b4: 2,
  });
  await knex('metrics_replicas').insert({
    ...series,
    instance_id: 'i1',
    samples: 1,
    cpu_seconds: 0.3,
    memory_bytes_max: 50_000_000,
    ready_min: 1,
    desired_max: 1,
  });
}

const ALERTS_MIGRATION = '20261203600000_alerts.js';
const ALERTS_TABLES = ['alert_rules', 'alert_states', 'alert_history'];

/** A rule set through the API, its state and a history entry. */
async function insertAlertRows(knex: Knex) {
  const at = now.getTime();
  await knex('alert_rules').insert({
    model_ref: MODEL,
    name: 'errors',
    rule: JSON.stringify({
      metric: 'error_rate',
      op: '>',
      threshold: 0.05,
      for: '5m',
      severity: 'critical',
    }),
    position: 0,
    updated_by: 'user:default/alice',
    updated_at: at,
  });
  await knex('alert_states').insert({
    model_ref: MODEL,
    rule: 'errors',
    state: 'firing',
    since: at,
    pending_since: at - 300_000,
    value: 0.25,
    evaluated_at: at,
    silenced_until: at + 3_600_000,
    silenced_by: 'user:default/alice',
  });
  await knex('alert_history').insert({
    model_ref: MODEL,
    rule: 'errors',
    state: 'firing',
    value: 0.25,
    threshold: 0.05,
    at,
    source: 'evaluator',
    notified: true,
  });
}

const INITIAL_TABLES = [
  'models',
  'builds',
  'build_logs',
  'deployments',
  'executions',
  'chunks',
];

jest.setTimeout(120_000);

// PostgreSQL runs whenever BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
// is set (.ci/run sets it); SQLite always.
const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe('migrations', () => {
  it.each(databases.eachSupportedId())(
    'every migration goes up and down with data in the tables, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);

      await migrateUpOnce(knex);
      for (const table of INITIAL_TABLES) {
        expect(await knex.schema.hasTable(table)).toBe(true);
      }
      await insertInitialRows(knex);
      await knex('deployments').insert(deployment(id(1), now));
      const before = await counts(knex, INITIAL_TABLES);

      // Up one at a time, each one down and up again: no row is lost.
      for (let i = 1; i < migrationsFiles.length; i++) {
        await migrateUpOnce(knex);
        expect(await counts(knex, INITIAL_TABLES)).toEqual(before);
        await migrateDownOnce(knex);
        expect(await counts(knex, INITIAL_TABLES)).toEqual(before);
        await migrateUpOnce(knex);
      }

      // All the way down: nothing of the plugin's is left...
      for (let i = 0; i < migrationsFiles.length; i++) {
        await migrateDownOnce(knex);
      }
      for (const table of [
        ...INITIAL_TABLES,
        ...METRICS_TABLES,
        'activity',
        'signing_keys',
        ...ALERTS_TABLES,
      ]) {
        expect(await knex.schema.hasTable(table)).toBe(false);
      }
      // ...and up again on the empty database.
      await knex.migrate.latest({ directory: migrationsDir });
      expect(await knex.schema.hasTable('activity')).toBe(true);
      expect(await knex.schema.hasTable('alert_history')).toBe(true);
    },
  );

  it.each(databases.eachSupportedId())(
    '20261126150000_builds.js and 20261126200000_executions.js keep existing rows, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(knex, '20261126150000_builds.js');
      await insertInitialRows(knex);

      await migrateUpOnce(knex);
      expect(await knex('models').first()).toMatchObject({
        entity_ref: MODEL,
        manifest_path: null,
      });
      expect(await knex('builds').first()).toMatchObject({
        id: BUILD,
        cancel_requested_at: null,
      });

      await migrateUpOnce(knex); // 20261126180000_deployments.js
      await migrateUpOnce(knex); // 20261126200000_executions.js
      expect(await knex('executions').first()).toMatchObject({
        id: EXECUTION,
        trigger: 'api',
        claimed_by: null,
        result_uri: null,
      });

      await migrateDownOnce(knex);
      const execution = await knex('executions').first();
      expect(execution).toMatchObject({ id: EXECUTION, status: 'succeeded' });
      expect(execution).not.toHaveProperty('trigger');
    },
  );

  it.each(databases.eachSupportedId())(
    '20261203500000_one_live_deployment.js, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(knex, '20261203500000_one_live_deployment.js');
      await insertInitialRows(knex);
      // What a race of the old check-then-insert could leave: two live
      // online deployments of one model (and an old stopped one).
      await knex('deployments').insert([
        deployment(id(1), new Date('2026-12-01T10:00:00Z')),
        deployment(id(2), new Date('2026-12-01T11:00:00Z')),
        deployment(id(3), new Date('2026-12-01T09:00:00Z'), 'stopped'),
      ]);

      await migrateUpOnce(knex);
      const rows = await knex('deployments').orderBy('id');
      expect(rows.map(r => [r.id, r.status, r.deleted_at !== null])).toEqual([
        [id(1), 'stopped', true],
        [id(2), 'ready', false],
        [id(3), 'stopped', false],
      ]);
      // A second live online deployment is refused by the index...
      await expectUniqueViolation(knex, 'deployments', () =>
        knex('deployments').insert(deployment(id(4), now, 'pending')),
      );
      // ...a batch one, a failed one and a deleted one are not.
      await knex('deployments').insert([
        { ...deployment(id(5), now), type: 'batch' },
        deployment(id(6), now, 'failed'),
        { ...deployment(id(7), now), deleted_at: now },
      ]);

      await migrateDownOnce(knex);
      await knex('deployments').insert(deployment(id(8), now));
      expect(
        await knex('deployments')
          .whereNull('deleted_at')
          .where({ type: 'online', status: 'ready' }),
      ).toHaveLength(2);
    },
  );
  it.each(databases.eachSupportedId())(
    '20261203800000_automatic_build_once.js, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(knex, '20261203800000_automatic_build_once.js');
      await insertInitialRows(knex);
      const sha = 'b'.repeat(40);
      const build = (n: number, trigger: string, minute: number) => ({
        id: id(n),
        model_ref: MODEL,
        version: 10 + n,
        status: 'succeeded',
        trigger,
        commit_sha: sha,
        steps: '[]',
        created_at: new Date(now.getTime() + minute * 60_000),
      });
      // A push and a poll of one commit that a race let through, and a
      // manual build of it.
      await knex('builds').insert([
        build(1, 'push', 1),
        build(2, 'poll', 2),
        build(3, 'api', 3),
      ]);

      await migrateUpOnce(knex);
      const rows = await knex('builds')
        .where({ commit_sha: sha })
        .orderBy('id');
      expect(rows.map(r => [r.id, r.automatic_commit])).toEqual([
        [id(1), sha],
        [id(2), null],
        [id(3), null],
      ]);
      await expectUniqueViolation(knex, 'builds', () =>
        knex('builds').insert({
          ...build(4, 'push', 4),
          automatic_commit: sha,
        }),
      );

      await migrateDownOnce(knex);
      await knex('builds').insert(build(5, 'push', 5));
      expect(await knex('builds').where({ commit_sha: sha })).toHaveLength(4);
    },
  );

  it.each(databases.eachSupportedId())(
    '20261204100000_prediction_event_segments.js moves events into segments and back, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(
        knex,
        '20261204100000_prediction_event_segments.js',
      );
      const row = (n: number, modelRef = MODEL) => ({
        id: `e${String(n).padStart(4, '0')}`,
        time: now.getTime() + n * 1000,
        model_ref: modelRef,
        version: 1,
        build_id: BUILD,
        deployment_id: null,
        execution_id: null,
        caller: null,
        caller_kind: 'user',
        trigger: 'http',
        route: 'records',
        latency_ms: 2.5,
        status: 200,
        rows: null,
        error: null,
        request: null,
        response: null,
        sampled: false,
        truncated: false,
        source_event_id: null,
        subscription_id: null,
      });
      const other = 'component:default/other';
      const full = {
        ...row(7, other),
        id: 'x0007',
        deployment_id: 'd1',
        execution_id: 'x1',
        caller: 'user:default/ada',
        rows: 2,
        error: 'boom',
        status: 500,
        request: '{"dataframe_records":[{"tenure":3}]}',
        response: '"not json"',
        sampled: true,
        truncated: true,
        source_event_id: 'ev1',
        subscription_id: 's1',
      };
      // Not in time order: segments are made in time order per model.
      const rows = [
        ...Array.from({ length: 501 }, (_, n) => row(500 - n)),
        full,
      ];
      for (let i = 0; i < rows.length; i += 100) {
        await knex('prediction_events').insert(rows.slice(i, i + 100));
      }

      await migrateUpOnce(knex);
      expect(await knex.schema.hasTable('prediction_events')).toBe(false);
      const segments = await knex('prediction_event_segments').orderBy('id');
      expect(
        segments.map(s => [
          s.model_ref,
          Number(s.count),
          Number(s.min_time) - now.getTime(),
          Number(s.max_time) - now.getTime(),
        ]),
      ).toEqual([
        [MODEL, 500, 0, 499_000],
        [MODEL, 1, 500_000, 500_000],
        [other, 1, 7000, 7000],
      ]);
      const first = JSON.parse(segments[0].events);
      expect(first.map((e: { id: string }) => e.id).slice(0, 2)).toEqual([
        'e0000',
        'e0001',
      ]);
      expect(first[0]).toEqual({
        id: 'e0000',
        time: now.toISOString(),
        modelRef: MODEL,
        version: 1,
        buildId: BUILD,
        callerKind: 'user',
        trigger: 'http',
        route: 'records',
        latencyMs: 2.5,
        status: 200,
        sampled: false,
      });
      expect(JSON.parse(segments[2].events)).toEqual([
        {
          id: 'x0007',
          time: new Date(now.getTime() + 7000).toISOString(),
          modelRef: other,
          version: 1,
          buildId: BUILD,
          deploymentId: 'd1',
          executionId: 'x1',
          caller: 'user:default/ada',
          callerKind: 'user',
          trigger: 'http',
          route: 'records',
          latencyMs: 2.5,
          status: 500,
          rows: 2,
          error: 'boom',
          request: { dataframe_records: [{ tenure: 3 }] },
          response: 'not json',
          sampled: true,
          truncated: true,
          sourceEventId: 'ev1',
          subscriptionId: 's1',
        },
      ]);

      await migrateDownOnce(knex);
      expect(await knex.schema.hasTable('prediction_event_segments')).toBe(
        false,
      );
      const back = await knex('prediction_events').orderBy('id');
      expect(
        back.map(r => ({
          ...r,
          time: Number(r.time),
          sampled: Boolean(r.sampled),
          truncated: Boolean(r.truncated),
        })),
      ).toEqual([...rows].sort((a, b) => (a.id < b.id ? -1 : 1)));
    },
  );

  it.each(databases.eachSupportedId())(
    '20261204200000_prediction_event_segments_zlib.js keeps older segments as they are, and goes down with compressed ones in their text again, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(
        knex,
        '20261204200000_prediction_event_segments_zlib.js',
      );
      const events = (n: number) =>
        JSON.stringify([{ id: `e${n}`, time: now.toISOString() }]);
      const segment = {
        model_ref: MODEL,
        min_time: now.getTime(),
        max_time: now.getTime(),
        count: 1,
      };
      await knex('prediction_event_segments').insert({
        ...segment,
        events: events(1),
      });

      await migrateUpOnce(knex);
      await knex('prediction_event_segments').insert({
        ...segment,
        events: '',
        events_zlib: zlib.deflateSync(events(2)),
      });
      const up = await knex('prediction_event_segments').orderBy('id');
      expect(up.map(r => [r.events, r.events_zlib === null])).toEqual([
        [events(1), true],
        ['', false],
      ]);

      await migrateDownOnce(knex);
      const down = await knex('prediction_event_segments').orderBy('id');
      expect(down.map(r => r.events)).toEqual([events(1), events(2)]);
      expect(down[0]).not.toHaveProperty('events_zlib');
    },
  );

  it.each(databases.eachSupportedId())(
    '20261203300000_metrics.js goes down with rows in its tables, and later migrations keep them, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(knex, METRICS_MIGRATION);
      await insertInitialRows(knex);
      const initial = await counts(knex, INITIAL_TABLES);

      await migrateUpOnce(knex);
      await insertMetricsRows(knex);
      await migrateDownOnce(knex);
      for (const table of METRICS_TABLES) {
        expect(await knex.schema.hasTable(table)).toBe(false);
      }
      expect(await counts(knex, INITIAL_TABLES)).toEqual(initial);

      await migrateUpOnce(knex);
      await insertMetricsRows(knex);
      const tables = [...INITIAL_TABLES, ...METRICS_TABLES];
      const before = await counts(knex, tables);
      expect(before).toMatchObject({
        metrics_calls: 1,
        metrics_predictions: 1,
        metrics_kpis: 1,
        metrics_batch: 1,
        metrics_replicas: 1,
      });
      // Every later migration, down and up again, keeps the rows.
      const later =
        migrationsFiles.length - 1 - migrationsFiles.indexOf(METRICS_MIGRATION);
      for (let i = 0; i < later; i++) {
        await migrateUpOnce(knex);
        expect(await counts(knex, tables)).toEqual(before);
        await migrateDownOnce(knex);
        expect(await counts(knex, tables)).toEqual(before);
        await migrateUpOnce(knex);
      }
      expect(await knex('metrics_kpis').first()).toMatchObject({
        kpi: 'revenue_at_risk',
        sum: 12.5,
      });
    },
  );

  it.each(databases.eachSupportedId())(
    '20261203600000_alerts.js goes down with rows in its tables, and later migrations keep them, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUntilBefore(knex, ALERTS_MIGRATION);
      await insertInitialRows(knex);
      await insertMetricsRows(knex);
      const earlier = [...INITIAL_TABLES, ...METRICS_TABLES];
      const initial = await counts(knex, earlier);

      await migrateUpOnce(knex);
      await insertAlertRows(knex);
      await migrateDownOnce(knex);
      for (const table of ALERTS_TABLES) {
        expect(await knex.schema.hasTable(table)).toBe(false);
      }
      expect(await counts(knex, earlier)).toEqual(initial);

      await migrateUpOnce(knex);
      await insertAlertRows(knex);
      // One row per model and rule name, one state per model and rule.
      await expectUniqueViolation(knex, 'alert_rules', () =>
        knex('alert_rules').insert({
          model_ref: MODEL,
          name: 'errors',
          rule: '{}',
          position: 1,
          updated_at: now.getTime(),
        }),
      );
      await expectUniqueViolation(knex, 'alert_states', () =>
        knex('alert_states').insert({
          model_ref: MODEL,
          rule: 'errors',
          state: 'ok',
        }),
      );
      const tables = [...earlier, ...ALERTS_TABLES];
      const before = await counts(knex, tables);
      expect(before).toMatchObject({
        alert_rules: 1,
        alert_states: 1,
        alert_history: 1,
      });
      // Every later migration, down and up again, keeps the rows.
      const later =
        migrationsFiles.length - 1 - migrationsFiles.indexOf(ALERTS_MIGRATION);
      for (let i = 0; i < later; i++) {
        await migrateUpOnce(knex);
        expect(await counts(knex, tables)).toEqual(before);
        await migrateDownOnce(knex);
        expect(await counts(knex, tables)).toEqual(before);
        await migrateUpOnce(knex);
      }
      // Epoch milliseconds beyond 32 bits survive (strings on PostgreSQL).
      const state = await knex('alert_states').first();
      expect(Number(state.silenced_until)).toBe(now.getTime() + 3_600_000);
      expect(state).toMatchObject({ state: 'firing', value: 0.25 });
      const history = await knex('alert_history').first();
      expect(Number(history.at)).toBe(now.getTime());
      expect(Boolean(history.notified)).toBe(true);
      expect(Boolean(history.silenced)).toBe(false);
      expect(
        JSON.parse((await knex('alert_rules').first()).rule),
      ).toMatchObject({ metric: 'error_rate', threshold: 0.05 });
    },
  );
});
