import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  createTestStores,
  storeTestDatabases,
} from '../../__testUtils__/stores';
import { CallRow, HOUR, MINUTE, ReplicaRow } from './types';

jest.setTimeout(60_000);

async function createStore(databaseId: TestDatabaseId) {
  const { knex, stores } = await createTestStores(databaseId);
  return { knex, store: stores.metrics };
}

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const MIN = 60_000;

function call(bucketStart: number, overrides: Partial<CallRow> = {}): CallRow {
  const latencyBuckets = new Array(16).fill(0);
  latencyBuckets[3] = 4; // four calls of 2.5-5 ms
  return {
    resolution: MINUTE,
    bucketStart,
    modelRef: 'component:default/churn',
    deploymentId: 'd1',
    buildId: 'b1',
    version: 1,
    route: 'v2',
    callerKind: 'service',
    requests: 4,
    callerErrors: 1,
    modelErrors: 0,
    unavailable: 0,
    timeouts: 0,
    rows: 30,
    latencySum: 0.012,
    inFlightMax: 2,
    latencyBuckets,
    ...overrides,
  };
}

function replica(bucketStart: number, overrides: Partial<ReplicaRow> = {}) {
  return {
    resolution: MINUTE,
    bucketStart,
    modelRef: 'component:default/churn',
    deploymentId: 'd1',
    buildId: 'b1',
    version: 1,
    instanceId: 'i1',
    samples: 1,
    restarts: 0,
    cpuSeconds: 0.5,
    memoryBytesMax: 1000,
    readyMin: 2,
    desiredMax: 2,
    ...overrides,
  };
}

describe.each(storeTestDatabases.eachSupportedId())(
  'DatabaseMetricsStore (%s)',
  id => {
    it('adds flushes of the same minute together, in SQL, and to its hour', async () => {
      const { store, knex } = await createStore(id);
      await store.add({ calls: [call(T0)] });
      await store.add({ calls: [call(T0, { inFlightMax: 5, requests: 1 })] });
      await store.add({
        calls: [call(T0, { inFlightMax: 1, callerKind: 'user' })],
      });
      // Two series, each with its minute and its hour.
      expect(await knex('metrics_calls').count({ n: '*' })).toEqual([
        { n: id === 'POSTGRES_15' ? '4' : 4 },
      ]);
      const [sums] = await store.sumCalls({
        modelRef: 'component:default/churn',
        from: T0,
        to: T0 + MIN,
        stepMs: MIN,
        resolution: MINUTE,
      });
      expect(sums).toMatchObject({
        step: 0,
        resolution: MINUTE,
        version: 1,
        requests: 9,
        callerErrors: 3,
        rows: 90,
        inFlightMax: 5,
      });
      expect(sums.latencySum).toBeCloseTo(0.036);
      expect(sums.latencyBuckets[3]).toBe(12);
      const [hour] = await store.sumCalls({
        modelRef: 'component:default/churn',
        from: T0,
        to: T0 + 60 * MIN,
        stepMs: 60 * MIN,
        resolution: HOUR,
      });
      expect(hour).toMatchObject({
        resolution: HOUR,
        requests: 9,
        inFlightMax: 5,
      });
    });

    it('sums per step, filters by deployment and version, lists series', async () => {
      const { store } = await createStore(id);
      await store.add({
        calls: [
          call(T0),
          call(T0 + MIN),
          call(T0 + 5 * MIN, { deploymentId: 'd2', buildId: 'b2', version: 2 }),
        ],
      });
      const window = {
        modelRef: 'component:default/churn',
        from: T0,
        to: T0 + 10 * MIN,
        stepMs: 5 * MIN,
        resolution: MINUTE,
      };
      const steps = await store.sumCalls(window);
      expect(steps.map(s => [s.step, s.version, s.requests]).sort()).toEqual([
        [0, 1, 8],
        [1, 2, 4],
      ]);
      expect(await store.sumCalls({ ...window, version: 2 })).toHaveLength(1);
      expect(
        await store.sumCalls({ ...window, deploymentId: 'd1' }),
      ).toMatchObject([{ step: 0, requests: 8 }]);
      expect(await store.listSeries(window)).toEqual([
        { deploymentId: 'd1', version: 1 },
        { deploymentId: 'd2', version: 2 },
      ]);
      expect(
        await store.sumCallsByModel({
          from: T0,
          to: T0 + 10 * MIN,
          resolution: HOUR,
        }),
      ).toMatchObject([{ modelRef: 'component:default/churn', requests: 12 }]);
    });

    it('keeps predictions, KPIs, batch chunks and replica samples', async () => {
      const { store } = await createStore(id);
      const key = {
        resolution: MINUTE,
        bucketStart: T0,
        modelRef: 'component:default/churn',
        deploymentId: 'd1',
        buildId: 'b1',
        version: 1,
      };
      const batch = {
        predictions: [
          {
            ...key,
            output: 'p',
            kind: 'numeric' as const,
            bin: '0.5',
            count: 3,
            valueSum: 1.2,
          },
          {
            ...key,
            output: 'churn',
            kind: 'class' as const,
            bin: 'true',
            count: 2,
            valueSum: 0,
          },
        ],
        kpis: [{ ...key, kpi: 'revenue_at_risk', sum: 12.5, count: 1 }],
        batch: [
          {
            ...key,
            deploymentId: '',
            chunks: 3,
            badInput: 0,
            modelErrors: 1,
            ioErrors: 0,
            workerCrashes: 0,
            rows: 2000,
            durationSum: 1.5,
            durationBuckets: [0, 0, 0, 0, 3],
          },
        ],
        replicas: [replica(T0)],
      };
      await store.add(batch);
      await store.add({
        ...batch,
        replicas: [
          replica(T0, { readyMin: 1, memoryBytesMax: 500, restarts: 1 }),
        ],
      });
      const window = {
        modelRef: key.modelRef,
        from: T0,
        to: T0 + MIN,
        stepMs: MIN,
        resolution: MINUTE,
      };
      expect(
        (await store.sumPredictions(window)).sort((a, b) =>
          a.output.localeCompare(b.output),
        ),
      ).toEqual([
        { output: 'churn', kind: 'class', bin: 'true', count: 4, valueSum: 0 },
        { output: 'p', kind: 'numeric', bin: '0.5', count: 6, valueSum: 2.4 },
      ]);
      expect(await store.sumKpis(window)).toEqual([
        {
          step: 0,
          resolution: MINUTE,
          kpi: 'revenue_at_risk',
          sum: 25,
          count: 2,
        },
      ]);
      expect(await store.sumBatch(window)).toMatchObject([
        { chunks: 6, modelErrors: 2, rows: 4000, durationSum: 3 },
      ]);
      expect(await store.sumReplicas(window)).toMatchObject([
        {
          instanceId: 'i1',
          samples: 2,
          restarts: 1,
          cpuSeconds: 1,
          memoryBytesMax: 1000,
          readyMin: 1,
          desiredMax: 2,
        },
      ]);
    });

    it('downsamples by dropping old minutes (their hours stay) and deletes old hours', async () => {
      const { store, knex } = await createStore(id);
      await store.add({
        calls: [
          call(T0),
          call(T0 + 59 * MIN),
          call(T0 + 60 * MIN),
          call(T0 + 61 * MIN, { inFlightMax: 7 }),
        ],
        replicas: [
          replica(T0),
          replica(T0 + MIN, { readyMin: 1, memoryBytesMax: 3000 }),
        ],
      });
      const rows = async () =>
        (
          await knex('metrics_calls').orderBy(['resolution', 'bucket_start'])
        ).map(r => [
          Number(r.resolution),
          Number(r.bucket_start),
          Number(r.requests),
          Number(r.in_flight_max),
        ]);
      expect(await rows()).toEqual([
        [MINUTE, T0, 4, 2],
        [MINUTE, T0 + 59 * MIN, 4, 2],
        [MINUTE, T0 + 60 * MIN, 4, 2],
        [MINUTE, T0 + 61 * MIN, 4, 7],
        [HOUR, T0, 8, 2],
        [HOUR, T0 + 60 * MIN, 8, 7],
      ]);
      // Only the minutes of whole hours before the cutoff go.
      expect(await store.downsample(T0 + 90 * MIN)).toBe(2 + 2);
      expect(await rows()).toEqual([
        [MINUTE, T0 + 60 * MIN, 4, 2],
        [MINUTE, T0 + 61 * MIN, 4, 7],
        [HOUR, T0, 8, 2],
        [HOUR, T0 + 60 * MIN, 8, 7],
      ]);
      const [hour] = await store.sumReplicas({
        modelRef: 'component:default/churn',
        from: T0,
        to: T0 + 60 * MIN,
        stepMs: 60 * MIN,
        resolution: HOUR,
      });
      expect(hour).toMatchObject({
        resolution: HOUR,
        samples: 2,
        cpuSeconds: 1,
        readyMin: 1,
        memoryBytesMax: 3000,
      });
      expect(await store.deleteBefore(HOUR, T0 + 60 * MIN)).toBe(1 + 1);
      expect(await rows()).toEqual([
        [MINUTE, T0 + 60 * MIN, 4, 2],
        [MINUTE, T0 + 61 * MIN, 4, 7],
        [HOUR, T0 + 60 * MIN, 8, 7],
      ]);
    });
  },
);
