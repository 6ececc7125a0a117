import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  createTestStores,
  storeTestDatabases as databases,
} from '../../__testUtils__/stores';
import { DatabaseSubscriptionStore } from './DatabaseSubscriptionStore';

jest.setTimeout(60_000);

async function createStores(databaseId: TestDatabaseId) {
  const { knex } = await createTestStores(databaseId);
  // Two stores on one database: two backend instances.
  return [
    new DatabaseSubscriptionStore(knex),
    new DatabaseSubscriptionStore(knex),
  ];
}

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

const subscription = {
  id: 's1',
  modelRef: 'component:default/churn',
  deploymentId: 'd1',
  topic: 'orders',
  filter: { path: '$.type', equals: 'order' },
  mapping: { rows: '$.items' },
  outputTopic: 'ml-platform.prediction.churn',
  enabled: true,
  createdAt: new Date(T0).toISOString(),
};

/** Stores one received event; whether it was new. */
async function insertOne(
  store: DatabaseSubscriptionStore,
  d: ReturnType<typeof delivery>,
  claim?: { owner: string; until: number },
) {
  const [inserted] = await store.insertDeliveries([{ delivery: d, claim }]);
  return inserted;
}

const delivery = (id: string, eventKey: string, at = T0) => ({
  id,
  subscriptionId: 's1',
  eventKey,
  topic: 'orders',
  payload: { type: 'order', items: [{ a: 1 }] },
  nextAttemptAt: at,
  receivedAt: at,
});

describe.each(databases.eachSupportedId())(
  'DatabaseSubscriptionStore on %s',
  databaseId => {
    it('keeps subscriptions with their counters, added to by every instance', async () => {
      const [a, b] = await createStores(databaseId);
      await a.createSubscription(subscription);
      await Promise.all([
        a.count('s1', { received: 2, predicted: 1 }),
        b.count('s1', { received: 1, failed: 1 }),
      ]);
      await b.updateSubscription('s1', { filter: undefined, enabled: false });
      expect(await a.getSubscription('s1')).toEqual({
        ...subscription,
        filter: undefined,
        enabled: false,
        received: 3,
        filtered: 0,
        predicted: 1,
        failed: 1,
        updatedAt: expect.any(String),
      });
      expect(await a.listSubscriptions({ enabled: true })).toEqual([]);
      expect(
        await a.listSubscriptions({ modelRef: 'component:default/churn' }),
      ).toHaveLength(1);
    });

    it('stores a group of events in one write, each once per key', async () => {
      const [store] = await createStores(databaseId);
      await store.createSubscription(subscription);
      expect(await insertOne(store, delivery('x0', 'evt-0'))).toBe(true);
      const group = Array.from({ length: 450 }, (_, i) => ({
        delivery: delivery(`g${i}`, `evt-${i % 300}`, T0 + i),
        claim: i % 2 ? { owner: 'a', until: T0 + 1000 } : undefined,
      }));
      const inserted = await store.insertDeliveries(group);
      // evt-0 was stored before; evt-0..149 come twice in the group.
      expect(inserted.filter(Boolean)).toHaveLength(299);
      expect(inserted[0]).toBe(false);
      expect(inserted.slice(1, 300).every(Boolean)).toBe(true);
      expect(inserted.slice(300).some(Boolean)).toBe(false);
      expect(await store.getDelivery('g7')).toMatchObject({
        eventKey: 'evt-7',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: T0 + 7,
        payload: { type: 'order', items: [{ a: 1 }] },
      });
      expect(await store.getDelivery('g307')).toBeUndefined();
      // The claimed ones are the receiver's: nobody else takes them.
      const claimed = await store.claimDeliveries({
        owner: 'b',
        now: T0 + 500,
        leaseMs: 1000,
        limit: 1000,
      });
      expect(claimed.map(d => d.id).sort()).toEqual(
        [
          'x0',
          ...group
            .slice(1, 300)
            .filter(g => !g.claim)
            .map(g => g.delivery.id),
        ].sort(),
      );
      expect(await store.insertDeliveries([])).toEqual([]);
    });

    it('stores an event once per key, and lets one instance claim it', async () => {
      const [a, b] = await createStores(databaseId);
      await a.createSubscription(subscription);
      const inserted = await Promise.all([
        insertOne(a, delivery('x1', 'evt-1')),
        insertOne(b, delivery('x2', 'evt-1')),
      ]);
      expect(inserted.sort()).toEqual([false, true]);
      expect(await insertOne(a, delivery('x3', 'evt-2'))).toBe(true);

      const claims = await Promise.all([
        a.claimDeliveries({ owner: 'a', now: T0, leaseMs: 1000, limit: 10 }),
        b.claimDeliveries({ owner: 'b', now: T0, leaseMs: 1000, limit: 10 }),
      ]);
      const ids = claims.flat().map(d => d.id);
      expect(ids.sort()).toEqual([...new Set(ids)].sort());
      expect(ids).toHaveLength(2);
      // Claimed: nobody else takes them until the lease ends.
      expect(
        await b.claimDeliveries({
          owner: 'b',
          now: T0 + 500,
          leaseMs: 1000,
          limit: 10,
        }),
      ).toEqual([]);
      // Claimed as it is stored: the receiver works on it, nobody else.
      expect(
        await insertOne(a, delivery('x4', 'evt-3'), {
          owner: 'a',
          until: T0 + 1000,
        }),
      ).toBe(true);
      expect(
        await b.claimDeliveries({
          owner: 'b',
          now: T0 + 500,
          leaseMs: 1000,
          limit: 10,
        }),
      ).toEqual([]);
      const taken = await b.claimDeliveries({
        owner: 'b',
        now: T0 + 1500,
        leaseMs: 1000,
        limit: 10,
      });
      expect(taken).toHaveLength(3);
      // Released by a stopping instance: taken at once, within the lease.
      expect(await b.releaseClaims('b')).toBe(3);
      expect(await a.releaseClaims('a')).toBe(0);
      const retaken = await a.claimDeliveries({
        owner: 'a',
        now: T0 + 1600,
        leaseMs: 1000,
        limit: 10,
      });
      expect(retaken.map(d => d.id).sort()).toEqual(
        taken.map(d => d.id).sort(),
      );
    });

    it('finishes predicted deliveries in a batch, releasing their claims', async () => {
      const [store] = await createStores(databaseId);
      await store.createSubscription(subscription);
      for (let i = 0; i < 5; i++) {
        await insertOne(store, delivery(`p${i}`, `evt-${i}`, T0 + i), {
          owner: 'a',
          until: T0 + 60_000,
        });
      }
      await store.finishPredicted(
        [
          { id: 'p0', attempts: 1 },
          { id: 'p1', attempts: 2 },
          { id: 'p3', attempts: 1 },
        ],
        T0 + 500,
      );
      const read = await Promise.all(
        ['p0', 'p1', 'p2', 'p3'].map(id => store.getDelivery(id)),
      );
      expect(read.map(d => [d?.status, d?.attempts, d?.finishedAt])).toEqual([
        ['predicted', 1, T0 + 500],
        ['predicted', 2, T0 + 500],
        ['pending', 0, undefined],
        ['predicted', 1, T0 + 500],
      ]);
      // Released: the unfinished ones only go back to the pool.
      expect(await store.releaseClaims('a')).toBe(2);
      await store.finishPredicted([], T0 + 600);
    });

    it('retries later, ends as a dead letter, and reports the lag', async () => {
      const [store] = await createStores(databaseId);
      await store.createSubscription(subscription);
      await insertOne(store, delivery('x1', 'evt-1', T0));
      await insertOne(store, delivery('x2', 'evt-2', T0 + 1000));
      expect((await store.oldestPending(['s1'])).get('s1')).toBe(T0);

      await store.retryDelivery('x1', 1, T0 + 5000, 'no replica');
      expect(
        (
          await store.claimDeliveries({
            owner: 'a',
            now: T0 + 2000,
            leaseMs: 100,
            limit: 10,
          })
        ).map(d => d.id),
      ).toEqual(['x2']);
      await store.finishDelivery('x2', { status: 'predicted' }, 1, T0 + 2000);
      const [due] = await store.claimDeliveries({
        owner: 'a',
        now: T0 + 5000,
        leaseMs: 100,
        limit: 10,
      });
      expect(due).toMatchObject({
        id: 'x1',
        attempts: 1,
        reason: 'no replica',
      });
      await store.finishDelivery(
        'x1',
        { status: 'dead', reason: 'no ready replica after 2 attempts' },
        2,
        T0 + 6000,
      );
      expect(await store.oldestPending(['s1'])).toEqual(new Map());
      expect(await store.listDeadLetters(['s1'], 10)).toEqual([
        expect.objectContaining({
          id: 'x1',
          eventKey: 'evt-1',
          status: 'dead',
          attempts: 2,
          reason: 'no ready replica after 2 attempts',
          payload: { type: 'order', items: [{ a: 1 }] },
          finishedAt: T0 + 6000,
        }),
      ]);
      // Finished keys past retention go; dead letters stay.
      expect(await store.deleteFinishedBefore(T0 + 10_000)).toBe(1);
      expect(await insertOne(store, delivery('x4', 'evt-2'))).toBe(true);
      expect(await insertOne(store, delivery('x5', 'evt-1'))).toBe(false);
      await store.deleteSubscription('s1');
      expect(await store.getDelivery('x1')).toBeUndefined();
    });
  },
);
