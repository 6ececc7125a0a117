import zlib from 'node:zlib';
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

    it('deletes the segments wholly past retention', async () => {
      const store = await createStore(databaseId);
      await store.insertEvents([event(1), event(2)]);
      await store.insertEvents([event(3)]);
      await store.insertEvents([event(4), event(6)]);
      expect(await store.deleteBefore(T0 + 3500)).toBe(3);
      const ids = async () =>
        (
          await store.listEvents({
            modelRef: 'component:default/churn',
            limit: 10,
          })
        ).map(e => e.id);
      expect(await ids()).toEqual(['e0006', 'e0004']);
      // A segment straddling the cutoff stays until its newest event goes.
      expect(await store.deleteBefore(T0 + 5000)).toBe(0);
      expect(await ids()).toEqual(['e0006', 'e0004']);
      expect(await store.deleteBefore(T0 + 6001)).toBe(2);
      expect(await ids()).toEqual([]);
    });

    it('pages newest first across overlapping segments', async () => {
      const { knex, stores } = await createTestStores(databaseId);
      const store = stores.predictionEvents;
      // 30 writes whose times interleave: every segment spans nearly the
      // whole range; two events share each time, from different writes.
      const writes = 30;
      const all = Array.from({ length: 600 }, (_, n) =>
        event(n, {
          time: new Date(T0 + Math.floor(n / 2) * 1000).toISOString(),
          status: n % 7 === 0 ? 500 : 200,
        }),
      );
      for (let w = 0; w < writes; w++) {
        const batch = all.filter((_, n) => n % writes === w);
        // Not in time order within a segment either.
        batch.push(...batch.splice(0, 7));
        await store.insertEvents(batch);
      }
      const [{ n: segments }] = await knex('prediction_event_segments').count({
        n: '*',
      });
      expect(Number(segments)).toBe(writes);

      const newestFirst = (events: PredictionEvent[]) =>
        [...events]
          .sort((a, b) =>
            a.time === b.time
              ? b.id.localeCompare(a.id)
              : b.time.localeCompare(a.time),
          )
          .map(e => e.id);
      const readAll = async (limit: number, extra: object = {}) => {
        const seen: string[] = [];
        let before: { time: number; id: string } | undefined;
        for (;;) {
          const page = await store.listEvents({
            modelRef: 'component:default/churn',
            limit,
            before,
            ...extra,
          });
          seen.push(...page.map(e => e.id));
          if (page.length < limit) return seen;
          const last = page.at(-1)!;
          before = { time: Date.parse(last.time), id: last.id };
        }
      };
      expect(await readAll(25)).toEqual(newestFirst(all));
      expect(await readAll(7)).toEqual(newestFirst(all));
      expect(await readAll(9, { status: 'error' })).toEqual(
        newestFirst(all.filter(e => e.status === 500)),
      );
      const window = { from: T0 + 50_000, to: T0 + 120_000 };
      expect(await readAll(11, window)).toEqual(
        newestFirst(
          all.filter(e => {
            const t = Date.parse(e.time);
            return t >= window.from && t < window.to;
          }),
        ),
      );
    });

    it('stores segments compressed, and reads segments written before uncompressed', async () => {
      const { stores, knex } = await createTestStores(databaseId);
      const store = stores.predictionEvents;
      const many = Array.from({ length: 500 }, (_, i) => event(i + 1));
      await store.insertEvents(many);
      const [stored] = await knex('prediction_event_segments').select();
      const json = JSON.stringify(many);
      expect(stored.events).toBe('');
      // Alike events: the segment is a small fraction of their JSON.
      expect(stored.events_zlib.length).toBeLessThan(json.length / 10);
      expect(
        JSON.parse(zlib.inflateSync(stored.events_zlib).toString()),
      ).toEqual(many);

      // A segment as written before compression: its JSON text.
      await knex('prediction_event_segments').insert({
        model_ref: 'component:default/churn',
        min_time: T0 + 999_000,
        max_time: T0 + 999_000,
        count: 1,
        events: JSON.stringify([event(999)]),
        events_zlib: null,
      });
      const newest = await store.listEvents({
        modelRef: 'component:default/churn',
        limit: 2,
      });
      expect(newest.map(e => e.id)).toEqual(['e0999', 'e0500']);
    });

    it('writes one segment per model and thousand events', async () => {
      const { knex, stores } = await createTestStores(databaseId);
      const models = ['component:default/churn', 'component:default/other'];
      await stores.predictionEvents.insertEvents(
        Array.from({ length: 2500 }, (_, n) =>
          event(n, { modelRef: models[n % 2] }),
        ),
      );
      const rows = await knex('prediction_event_segments')
        .orderBy('id')
        .select('model_ref', 'count', 'min_time', 'max_time');
      expect(
        rows.map(r => [
          r.model_ref,
          Number(r.count),
          Number(r.min_time),
          Number(r.max_time),
        ]),
      ).toEqual([
        [models[0], 1000, T0, T0 + 1_998_000],
        [models[0], 250, T0 + 2_000_000, T0 + 2_498_000],
        [models[1], 1000, T0 + 1000, T0 + 1_999_000],
        [models[1], 250, T0 + 2_001_000, T0 + 2_499_000],
      ]);
      const other = await stores.predictionEvents.listEvents({
        modelRef: models[1],
        limit: 2000,
      });
      expect(other).toHaveLength(1250);
      expect(other[0].id).toBe('e2499');
      await stores.predictionEvents.insertEvents([]);
      expect(await knex('prediction_event_segments')).toHaveLength(4);
    });

    it('finds events that match only in an older segment', async () => {
      const store = await createStore(databaseId);
      await store.insertEvents([
        event(1, { status: 503, caller: 'service:old' }),
        event(2),
        event(3, { version: 7 }),
      ]);
      for (let w = 0; w < 45; w++) {
        await store.insertEvents(
          Array.from({ length: 10 }, (_, i) => event(100 + w * 10 + i)),
        );
      }
      const q = { modelRef: 'component:default/churn', limit: 5 };
      const ids = async (extra: object) =>
        (await store.listEvents({ ...q, ...extra })).map(e => e.id);
      expect(await ids({ status: 'error' })).toEqual(['e0001']);
      expect(await ids({ caller: 'service:old' })).toEqual(['e0001']);
      expect(await ids({ version: 7 })).toEqual(['e0003']);
      expect(await ids({ to: T0 + 100_000 })).toEqual([
        'e0003',
        'e0002',
        'e0001',
      ]);
      expect(
        await ids({ before: { time: T0 + 100_000, id: 'e0100' } }),
      ).toEqual(['e0003', 'e0002', 'e0001']);
      expect(await ids({})).toEqual([
        'e0549',
        'e0548',
        'e0547',
        'e0546',
        'e0545',
      ]);
    });

    it('keeps the first write of a request id, whichever segment is read first', async () => {
      const store = await createStore(databaseId);
      await store.insertEvents([event(0), event(1)]);
      // A later write, read first (its newest event is newer).
      await store.insertEvents([event(0, { status: 503 }), event(5)]);
      const q = { modelRef: 'component:default/churn', limit: 10 };
      const all = await store.listEvents(q);
      expect(all.map(e => [e.id, e.status])).toEqual([
        ['e0005', 200],
        ['e0001', 200],
        ['e0000', 200],
      ]);
      expect(await store.listEvents({ ...q, status: '503' })).toEqual([]);
    });
  },
);
