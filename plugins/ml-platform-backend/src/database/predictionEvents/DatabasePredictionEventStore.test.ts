import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  createTestStores,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';
import { PredictionEvent } from '@internal/plugin-ml-platform-common';

jest.setTimeout(60_000);

async function createStore(databaseId: TestDatabaseId) {
  const { stores } = await createTestStores(databaseId);
  return stores.predictionEvents;
}

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

function event(n: number, overrides: Partial<PredictionEvent> = {}) {
  return {
    id: `e${String(n).padStart(4, '0')}`,
    time: new Date(T0 + n * 1000).toISOString(),
    modelRef: 'component:default/churn',
    version: 1,
    buildId: 'b1',
    deploymentId: 'd1',
    caller: 'user:default/ada',
    callerKind: 'user',
    trigger: 'http',
    route: 'records',
    latencyMs: 2.5,
    status: 200,
    rows: 2,
    sampled: true,
    request: { dataframe_records: [{ tenure: 3 }] },
    response: { predictions: [0.5] },
    ...overrides,
  } as PredictionEvent;
}

describe.each(databases.eachSupportedId())(
  'DatabasePredictionEventStore on %s',
  databaseId => {
    it('stores events and reads them back newest first, with filters', async () => {
      const store = await createStore(databaseId);
      await store.insertEvents([
        event(1),
        event(2, { status: 500, error: 'boom', version: 2, buildId: 'b2' }),
        event(3, { caller: 'service:other', callerKind: 'service' }),
        event(4, { modelRef: 'component:default/other' }),
        event(5, {
          trigger: 'batch',
          route: 'batch',
          sampled: false,
          request: undefined,
          response: undefined,
        }),
      ]);
      const all = await store.listEvents({
        modelRef: 'component:default/churn',
        limit: 10,
      });
      expect(all.map(e => e.id)).toEqual(['e0005', 'e0003', 'e0002', 'e0001']);
      expect(all[3]).toEqual(event(1));
      expect(all[0].request).toBeUndefined();

      const q = { modelRef: 'component:default/churn', limit: 10 };
      const ids = async (extra: object) =>
        (await store.listEvents({ ...q, ...extra })).map(e => e.id);
      expect(await ids({ status: '5xx' })).toEqual(['e0002']);
      expect(await ids({ status: 'error' })).toEqual(['e0002']);
      expect(await ids({ status: '200' })).toEqual(['e0005', 'e0003', 'e0001']);
      expect(await ids({ version: 2 })).toEqual(['e0002']);
      expect(await ids({ caller: 'service:other' })).toEqual(['e0003']);
      expect(await ids({ trigger: 'batch' })).toEqual(['e0005']);
      expect(await ids({ from: T0 + 2000, to: T0 + 4000 })).toEqual([
        'e0003',
        'e0002',
      ]);
    });

    it('pages by (time, id) and ignores a request id written twice', async () => {
      const store = await createStore(databaseId);
      const events = Array.from({ length: 450 }, (_, i) =>
        event(i, {
          time: new Date(T0 + Math.floor(i / 3) * 1000).toISOString(),
        }),
      );
      await store.insertEvents(events);
      await store.insertEvents([event(0, { status: 503 })]);
      const seen: string[] = [];
      let before: { time: number; id: string } | undefined;
      for (;;) {
        const page = await store.listEvents({
          modelRef: 'component:default/churn',
          limit: 100,
          before,
        });
        seen.push(...page.map(e => e.id));
        if (page.length < 100) break;
        const last = page.at(-1)!;
        before = { time: Date.parse(last.time), id: last.id };
      }
      expect(seen).toHaveLength(450);
      expect(new Set(seen).size).toBe(450);
      expect(seen.at(-1)).toBe('e0000');
      const first = await store.listEvents({
        modelRef: 'component:default/churn',
        limit: 1,
        from: T0,
        to: T0 + 1,
        status: '503',
      });
      expect(first).toEqual([]);
    });

    it('deletes events past retention', async () => {
      const store = await createStore(databaseId);
      await store.insertEvents([event(1), event(2), event(3)]);
      expect(await store.deleteBefore(T0 + 2500)).toBe(2);
      const left = await store.listEvents({
        modelRef: 'component:default/churn',
        limit: 10,
      });
      expect(left.map(e => e.id)).toEqual(['e0003']);
    });
  },
);
