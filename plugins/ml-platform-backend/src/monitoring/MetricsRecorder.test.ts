import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { MetricsStore, createDatabaseStores } from '../database';
import { MetricsBatch } from '../database/metrics/types';
import { BuildVersions } from './BuildVersions';
import { MetricsRecorder, RecordedCall } from './MetricsRecorder';
import { MetricsRetention } from './MetricsRetention';
import { EmbeddedMetricsSource } from './query/EmbeddedMetricsSource';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const MIN = 60_000;
const HOUR_MS = 60 * MIN;
const DAY = 24 * HOUR_MS;
const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const churn = 'component:default/churn';

/** A records answer with a probability, a class and a KPI per row. */
function answer(probabilities: number[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      predictions: probabilities.map(p => ({
        churn_probability: p,
        churn: p >= 0.5,
        kpis: { revenue_at_risk: p * 100 },
      })),
    }),
  );
}

function call(overrides: Partial<RecordedCall> = {}): RecordedCall {
  return {
    modelRef: churn,
    deploymentId: 'd1',
    buildId: 'b1',
    route: 'records',
    callerKind: 'service',
    status: 200,
    latencyMs: 3,
    inFlight: 1,
    ...overrides,
  };
}

describe.each(databases.eachSupportedId())('MetricsRecorder (%s)', id => {
  let now: number;
  let store: MetricsStore;
  let writes: MetricsBatch[];
  let recorder: MetricsRecorder;
  const versions = new BuildVersions(
    async buildId =>
      ({
        version: buildId === 'b2' ? 2 : 1,
      } as any),
  );

  beforeEach(async () => {
    now = T0;
    const knex = await databases.init(id);
    store = (await createDatabaseStores({ getClient: async () => knex }))
      .metrics;
    writes = [];
    const add = store.add.bind(store);
    jest.spyOn(store, 'add').mockImplementation(async batch => {
      writes.push(batch);
      return add(batch);
    });
    recorder = new MetricsRecorder({
      store,
      versions,
      logger: mockServices.logger.mock(),
      clock: () => now,
    });
  });

  const source = () =>
    new EmbeddedMetricsSource(store, {
      rawRetentionMs: 2 * DAY,
      clock: () => now,
    });

  it('aggregates calls in memory and writes each minute once per flush', async () => {
    for (let i = 0; i < 1000; i++) {
      now = T0 + (i % 2) * MIN + i; // two minutes
      recorder.recordCall(
        call({
          status: i % 10 === 0 ? 500 : 200,
          latencyMs: i % 100 === 0 ? 40 : 2,
          inFlight: 1 + (i % 4),
          response: i % 10 === 0 ? undefined : answer([0.2, 0.7]),
        }),
      );
    }
    recorder.recordCall(call({ status: 503, route: 'v2', callerKind: 'user' }));
    await recorder.flush();
    expect(writes).toHaveLength(1);
    // Two minutes of one series, one minute of the other: three rows, not 1001.
    expect(writes[0].calls).toHaveLength(3);

    const data = await source().read({
      modelRef: churn,
      from: T0,
      stepMs: MIN,
      steps: 2,
    });
    const metrics = data.toModelMetrics('embedded');
    expect(metrics.summary).toMatchObject({
      requests: 1001,
      errors: 101,
      rows: 900 * 2,
    });
    // Every tenth call failed, all of them in the first minute.
    const ratio = (name: string) =>
      metrics.errorRatio.find(s => s.name === name)!.values;
    expect(ratio('model_error')).toEqual([0.2, 0]);
    expect(ratio('unavailable')[1]).toBeCloseTo(1 / 501);
    expect(ratio('all')[1]).toBeCloseTo(1 / 501);
    // 99 % of calls took 2 ms: p50 inside the 1-2.5 ms bucket, p99 too.
    expect(metrics.summary.latencyP50).toBeGreaterThan(0.001);
    expect(metrics.summary.latencyP50).toBeLessThanOrEqual(0.0025);
    expect(metrics.inFlight[0].values).toEqual([3, 4]); // even calls in minute one
    const probability = metrics.predictions.find(
      p => p.output === 'churn_probability',
    )!;
    expect(probability.kind).toBe('numeric');
    expect(probability.currentTotal).toBe(1800);
    expect(probability.currentMean).toBeCloseTo(0.45);
    expect(
      probability.bins.filter(b => b.current > 0).map(b => [b.bin, b.current]),
    ).toEqual([
      ['0.1 to 0.2', 900],
      ['0.6 to 0.7', 900],
    ]);
    expect(metrics.predictions.find(p => p.output === 'churn')!.bins).toEqual([
      { bin: 'false', current: 900, previous: 0 },
      { bin: 'true', current: 900, previous: 0 },
    ]);
    const kpi = metrics.kpis[0];
    expect(kpi.name).toBe('revenue_at_risk');
    expect(kpi.total.count).toBe(1800);
    expect(kpi.total.sum).toBeCloseTo(900 * 90);
  });

  it('keeps minutes pending when a flush fails, and counters never go down', async () => {
    recorder.recordCall(call());
    (store.add as jest.Mock).mockRejectedValueOnce(new Error('database down'));
    await expect(recorder.flush()).rejects.toThrow('database down');
    expect(recorder.callTotals()[0].total.counts.requests).toBe(1);
    recorder.recordCall(call());
    await recorder.flush();
    expect(recorder.callTotals()[0].total.counts.requests).toBe(2);
    const [row] = await store.sumCalls({
      modelRef: churn,
      from: T0,
      to: T0 + MIN,
      stepMs: MIN,
      resolution: 60,
    });
    expect(row.requests).toBe(2);
  });

  it('counts a call recorded after the fact in the minute it ended, not the minute it was read', async () => {
    // The native data plane's calls are read from its log a moment later,
    // or after a restart, minutes later.
    now = T0 + 3 * MIN + 100;
    recorder.recordCall(call({ endedAt: T0 + MIN - 50 }));
    recorder.recordCall(call({ endedAt: T0 + 2 * MIN + 10 }));
    recorder.recordCall(call());
    await recorder.flush();
    const rows = await store.sumCalls({
      modelRef: churn,
      from: T0,
      to: T0 + 4 * MIN,
      stepMs: MIN,
      resolution: 60,
    });
    expect(rows.map(r => [r.step, r.requests]).sort()).toEqual([
      [0, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it('shows a shift of the prediction distribution against the window before', async () => {
    for (let i = 0; i < 100; i++) {
      now = T0 + i * 1000;
      recorder.recordCall(call({ response: answer([0.15]) }));
    }
    for (let i = 0; i < 100; i++) {
      now = T0 + HOUR_MS + i * 1000;
      recorder.recordCall(call({ response: answer([i < 50 ? 0.15 : 0.85]) }));
    }
    await recorder.flush();
    const metrics = (
      await source().read({
        modelRef: churn,
        from: T0 + HOUR_MS,
        stepMs: 5 * MIN,
        steps: 12,
      })
    ).toModelMetrics('embedded');
    const bins = metrics.predictions.find(
      p => p.output === 'churn_probability',
    )!.bins;
    expect(bins.find(b => b.bin === '0.1 to 0.2')).toMatchObject({
      current: 50,
      previous: 100,
    });
    expect(bins.find(b => b.bin === '0.8 to 0.9')).toMatchObject({
      current: 50,
      previous: 0,
    });
  });

  it('downsamples to hours after retention.raw and drops hours after retention.hourly', async () => {
    // One call a minute for three hours, on two versions.
    for (let m = 0; m < 180; m++) {
      now = T0 + m * MIN;
      recorder.recordCall(call({ buildId: m < 90 ? 'b1' : 'b2' }));
      if (m % 30 === 29) await recorder.flush();
    }
    const retention = new MetricsRetention({
      store,
      rawMs: 2 * DAY,
      hourlyMs: 90 * DAY,
      logger: mockServices.logger.mock(),
      clock: () => now,
    });
    const read = async (stepMs: number) =>
      (
        await source().read({
          modelRef: churn,
          from: T0,
          stepMs,
          steps: (3 * HOUR_MS) / stepMs,
        })
      ).toModelMetrics('embedded');
    const before = await read(HOUR_MS);

    now = T0 + 2 * DAY + 2 * HOUR_MS; // the first two hours are past raw retention
    expect(await retention.run()).toEqual({
      downsampled: 2 * 60 + 0,
      deleted: 0,
    });
    const after = await read(HOUR_MS);
    expect(after.requestsPerSecond).toEqual(before.requestsPerSecond);
    expect(after.summary.requests).toBe(180);
    // Read per minute, a downsampled hour spreads evenly over its minutes.
    const perMinute = await read(MIN);
    expect(perMinute.summary.requests).toBeCloseTo(180);
    const v1 = perMinute.requestsPerSecond.find(s => s.name === '1')!.values;
    expect(v1[0]).toBeCloseTo(1 / 60);
    expect(v1[75]).toBeCloseTo(0.5 / 60); // hour two: 30 calls of version 1

    now = T0 + 91 * DAY;
    const { deleted } = await retention.run();
    expect(deleted).toBeGreaterThan(0);
    expect((await read(HOUR_MS)).summary.requests).toBe(0);
  });

  it('records batch chunk attempts', async () => {
    recorder.recordChunk({
      modelRef: churn,
      buildId: 'b1',
      outcome: 'success',
      rows: 1000,
      seconds: 0.4,
    });
    recorder.recordChunk({
      modelRef: churn,
      buildId: 'b1',
      outcome: 'model_error',
      rows: 1000,
      seconds: 0.1,
    });
    await recorder.flush();
    const metrics = (
      await source().read({ modelRef: churn, from: T0, stepMs: MIN, steps: 1 })
    ).toModelMetrics('embedded');
    expect(metrics.batch.totals).toEqual({
      chunks: 2,
      failedChunks: 1,
      rows: 1000,
    });
    expect(metrics.batch.rowsPerSecond[0].values[0]).toBeCloseTo(1000 / 60);
    expect(metrics.batch.chunkSeconds[0].values[0]).toBeGreaterThan(0.05);
  });

  it('reads a sample of answers under load, counting every row and every KPI', async () => {
    const sampled = new MetricsRecorder({
      store,
      versions,
      logger: mockServices.logger.mock(),
      clock: () => now,
      answersReadPerSecond: 5,
    });
    const plain = Buffer.from(
      JSON.stringify({ predictions: [{ p: 0.3 }, { p: 0.6 }] }),
    );
    const withKpi = Buffer.from(
      JSON.stringify({ predictions: [{ p: 0.3, kpis: { revenue: 2 } }] }),
    );
    for (let i = 0; i < 100; i++) {
      now = T0 + i * 10; // one second
      sampled.recordCall(call({ response: i % 10 === 9 ? withKpi : plain }));
    }
    await sampled.flush();
    const metrics = (
      await source().read({ modelRef: churn, from: T0, stepMs: MIN, steps: 1 })
    ).toModelMetrics('embedded');
    expect(metrics.summary.rows).toBe(90 * 2 + 10);
    expect(metrics.kpis[0].total).toEqual({ sum: 20, count: 10 });
    // Five plain answers read (10 values) and the ten with KPIs.
    const p = metrics.predictions.find(d => d.output === 'p')!;
    expect(p.currentTotal).toBe(5 * 2 + 10);
  });
});
