import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  DefaultEventsService,
  EventParams,
} from '@backstage/plugin-events-node';
import { createTestStores, storeTestDatabases } from '../__testUtils__/stores';
import { DatabaseSubscriptionStore } from '../database/subscriptions/DatabaseSubscriptionStore';
import { waitFor } from '../__testUtils__/modelRepository';
import { Gateway, InvocationBody } from '../gateway/Gateway';
import { SubscriptionDispatcher } from './SubscriptionDispatcher';

jest.setTimeout(60_000);

const settings = {
  maxAttempts: 3,
  retryBackoffMs: 50,
  pollIntervalMs: 50,
  // Far longer than the test: a claim kept by a stopped instance would
  // hold its event for the rest of it.
  leaseMs: 10 * 60_000,
  concurrency: 4,
  prefetch: 16,
  refreshIntervalMs: 60_000,
  // One model call per event: the fake models below answer one row.
  maxBatchEvents: 1,
};

/** A gateway whose first answer waits until `release()`. */
function slowGateway() {
  let release = () => {};
  const released = new Promise<void>(r => {
    release = r;
  });
  const calls: string[] = [];
  const gateway = {
    predict: jest.fn(async (_ref: unknown, body: InvocationBody) => {
      const { bytes, json } = await body();
      const rows = JSON.parse(bytes.toString()).dataframe_records;
      // What the gateway checked is what it forwards.
      expect(json).toEqual({ dataframe_records: rows });
      calls.push(rows[0].id);
      if (calls.length === 1) await released;
      return {
        status: 200,
        body: Buffer.from(JSON.stringify({ predictions: [rows[0].id * 2] })),
      };
    }),
  };
  return { gateway: gateway as unknown as Gateway, calls, release };
}

const OUTPUT_TOPIC = 'ml-platform.prediction.churn';

/** A database with one subscription: `orders` events mapped to `{id}` rows. */
async function subscribedDatabase(databaseId: TestDatabaseId = 'SQLITE_3') {
  const { knex } = await createTestStores(databaseId);
  await new DatabaseSubscriptionStore(knex).createSubscription({
    id: 's1',
    modelRef: 'component:default/churn',
    deploymentId: 'd1',
    topic: 'orders',
    mapping: { columns: { id: '$.id' } },
    outputTopic: OUTPUT_TOPIC,
    enabled: true,
    createdAt: new Date().toISOString(),
  });
  return knex;
}

/** A backend instance: its own store and events service, one dispatcher. */
async function instance(
  knex: Knex,
  gateway: Gateway,
  overrides: Partial<typeof settings> = {},
  now?: () => number,
) {
  const store = new DatabaseSubscriptionStore(knex);
  const events = DefaultEventsService.create({
    logger: mockServices.logger.mock(),
  });
  const outputs: EventParams[] = [];
  await events.subscribe({
    id: 'test-output',
    topics: [OUTPUT_TOPIC],
    onEvent: async e => {
      outputs.push(e);
    },
  });
  const dispatcher = new SubscriptionDispatcher({
    store,
    events,
    gateway,
    auth: mockServices.auth(),
    logger: mockServices.logger.mock(),
    settings: { ...settings, ...overrides },
    now,
  });
  await dispatcher.start();
  return { store, events, dispatcher, outputs };
}

/** Deliveries marked predicted in the database. */
async function predictedCount(knex: Knex): Promise<number> {
  const [{ n }] = await knex('subscription_deliveries')
    .where('status', 'predicted')
    .count({ n: '*' });
  return Number(n);
}

const order = (id: number) => ({
  topic: 'orders',
  eventPayload: { id },
  metadata: { 'x-event-id': `order-${id}` },
});

describe('SubscriptionDispatcher', () => {
  it('releases the claim of a prediction still under way when it stops, so the next instance takes the event at once', async () => {
    const knex = await subscribedDatabase();
    const first = slowGateway();
    const stopping = await instance(knex, first.gateway);
    await stopping.dispatcher.receive(order(21));
    await waitFor(async () => first.calls.length === 1, {
      what: 'the prediction to start',
    });
    // Stopped while the model still answers (a 100 ms drain).
    await stopping.dispatcher.stop(100);
    const [delivery] = await knex('subscription_deliveries').select();
    expect(delivery).toMatchObject({
      status: 'pending',
      claimed_by: null,
      claimed_until: null,
    });

    const second = slowGateway();
    second.release();
    const next = await instance(knex, second.gateway);
    await waitFor(async () => next.outputs.length === 1, {
      what: 'the next instance to predict the event',
      timeoutMs: 10_000,
    });
    expect(next.outputs[0].eventPayload).toMatchObject({
      sourceEventId: 'order-21',
      predictions: [42],
    });
    expect(second.calls).toEqual([21]);
    await next.dispatcher.stop();
    expect(await knex('subscription_deliveries').first()).toMatchObject({
      status: 'predicted',
    });
    first.release();
  });

  it('lets a prediction under way finish before it stops', async () => {
    const knex = await subscribedDatabase();
    const slow = slowGateway();
    const { store, dispatcher } = await instance(knex, slow.gateway);
    await dispatcher.receive(order(5));
    await waitFor(async () => slow.calls.length === 1, {
      what: 'the prediction to start',
    });
    setTimeout(() => slow.release(), 200);
    await dispatcher.stop(5000);
    expect(await knex('subscription_deliveries').first()).toMatchObject({
      status: 'predicted',
      claimed_by: null,
    });
    expect(await store.getSubscription('s1')).toMatchObject({
      received: 1,
      predicted: 1,
    });
  });

  it('waits at stop for an event still being stored, and predicts it before it stops', async () => {
    const knex = await subscribedDatabase();
    const model = slowGateway();
    model.release();
    const { store, dispatcher, outputs } = await instance(knex, model.gateway);
    const insert = store.insertDeliveries.bind(store);
    jest.spyOn(store, 'insertDeliveries').mockImplementation(async received => {
      await new Promise(r => setTimeout(r, 200));
      return insert(received);
    });
    const receiving = dispatcher.receive(order(9));
    await new Promise(r => setTimeout(r, 20)); // stored claimed, not yet written
    await dispatcher.stop(5000);
    await receiving;
    expect(outputs).toHaveLength(1);
    expect(await knex('subscription_deliveries').first()).toMatchObject({
      status: 'predicted',
      claimed_by: null,
    });
  });

  it('predicts again, rather than finishing, when the output could not be published', async () => {
    const knex = await subscribedDatabase();
    const model = slowGateway();
    model.release();
    const { events, dispatcher, outputs } = await instance(knex, model.gateway);
    const publish = events.publish.bind(events);
    let refused = 0;
    jest.spyOn(events, 'publish').mockImplementation(async params => {
      if (params.topic === OUTPUT_TOPIC && refused++ === 0) {
        throw new Error('Request failed with 503 Service Unavailable');
      }
      return publish(params);
    });
    await dispatcher.receive(order(7));
    await waitFor(async () => outputs.length === 1, {
      what: 'the prediction, published on the second attempt',
    });
    await dispatcher.stop();
    expect(model.calls).toEqual([7, 7]);
    expect(await knex('subscription_deliveries').first()).toMatchObject({
      status: 'predicted',
      attempts: 2,
    });
  });

  it('adds a prediction to the counters only once its delivery is marked done, so a subscription never shows every event predicted with some still pending', async () => {
    const knex = await subscribedDatabase();
    const model = slowGateway();
    model.release();
    // Polled by hand below: the timer's would come far too late.
    const { store, dispatcher, outputs } = await instance(knex, model.gateway, {
      pollIntervalMs: 10 * 60_000,
    });
    // Marking deliveries done takes a while (a busy database).
    const finishPredicted = store.finishPredicted.bind(store);
    jest
      .spyOn(store, 'finishPredicted')
      .mockImplementation(async (finished, now) => {
        await new Promise(r => setTimeout(r, 300));
        return finishPredicted(finished, now);
      });
    await dispatcher.receive(order(5));
    await waitFor(async () => outputs.length === 1, {
      what: 'the prediction',
    });
    // The poll adds the counted predictions up in the database.
    await dispatcher.poll();
    const { predicted } = (await store.getSubscription('s1'))!;
    const [{ status }] = await knex('subscription_deliveries').select('status');
    expect({ predicted, status }).toEqual({
      predicted: 1,
      status: 'predicted',
    });
    await dispatcher.stop();
  });

  it('stores events received together in one write, and predicts those left unclaimed as soon as slots free up', async () => {
    const knex = await subscribedDatabase();
    const model = slowGateway();
    model.release();
    // Two slots and no queue; the poll's timer would come far too late
    // for this test.
    const { store, dispatcher, outputs } = await instance(knex, model.gateway, {
      concurrency: 2,
      prefetch: 0,
      pollIntervalMs: 10 * 60_000,
    });
    const inserts = jest.spyOn(store, 'insertDeliveries');
    const ids = Array.from({ length: 30 }, (_, i) => 100 + i);
    await Promise.all(ids.map(id => dispatcher.receive(order(id))));
    expect(inserts).toHaveBeenCalledTimes(1);
    expect(inserts.mock.calls[0][0].filter(d => d.claim)).toHaveLength(2);
    await waitFor(async () => outputs.length === ids.length, {
      what: 'every event predicted',
      timeoutMs: 10_000,
    });
    expect(model.calls.sort()).toEqual(ids);
    await dispatcher.stop();
    expect(await predictedCount(knex)).toBe(ids.length);
  });

  it('claims events that find every slot busy as it stores them, and predicts them from its queue without a claim query', async () => {
    const knex = await subscribedDatabase();
    const model = slowGateway();
    model.release();
    const { store, dispatcher, outputs } = await instance(knex, model.gateway, {
      concurrency: 2,
      prefetch: 8,
      pollIntervalMs: 10 * 60_000,
    });
    const inserts = jest.spyOn(store, 'insertDeliveries');
    const claims = jest.spyOn(store, 'claimDeliveries');
    // 2 slots + 8 queued are claimed as stored; the last 5 are not.
    const ids = Array.from({ length: 15 }, (_, i) => 200 + i);
    await Promise.all(ids.map(id => dispatcher.receive(order(id))));
    expect(inserts).toHaveBeenCalledTimes(1);
    expect(inserts.mock.calls[0][0].map(d => Boolean(d.claim))).toEqual([
      ...Array(10).fill(true),
      ...Array(5).fill(false),
    ]);
    await waitFor(async () => outputs.length === ids.length, {
      what: 'every event predicted',
      timeoutMs: 10_000,
    });
    expect(model.calls.sort()).toEqual(ids);
    // The queued ones needed no claim query: only the 5 stored unclaimed.
    const claimed = await Promise.all(
      claims.mock.results.map(r => r.value as Promise<unknown[]>),
    );
    expect(claimed.flat()).toHaveLength(5);
    await dispatcher.stop();
  });

  it('releases the claims of queued events when it stops, so the next instance predicts them', async () => {
    const knex = await subscribedDatabase();
    const first = slowGateway();
    const stopping = await instance(knex, first.gateway, {
      concurrency: 1,
      prefetch: 4,
    });
    // One prediction hangs; three events wait in the queue.
    await Promise.all(
      [41, 42, 43, 44].map(id => stopping.dispatcher.receive(order(id))),
    );
    await waitFor(async () => first.calls.length === 1, {
      what: 'the first prediction to start',
    });
    expect(
      await knex('subscription_deliveries')
        .whereNotNull('claimed_by')
        .count({ n: '*' }),
    ).toEqual([{ n: 4 }]);
    await stopping.dispatcher.stop(100);
    expect(first.calls).toEqual([41]);
    expect(
      await knex('subscription_deliveries')
        .whereNotNull('claimed_by')
        .count({ n: '*' }),
    ).toEqual([{ n: 0 }]);

    const second = slowGateway();
    second.release();
    const next = await instance(knex, second.gateway);
    await waitFor(async () => next.outputs.length === 4, {
      what: 'the next instance to predict the four events',
      timeoutMs: 10_000,
    });
    expect(second.calls.sort()).toEqual([41, 42, 43, 44]);
    await next.dispatcher.stop();
    first.release();
  });

  it('leaves a queued event whose lease is half gone to the poll instead of starting it', async () => {
    const knex = await subscribedDatabase();
    const model = slowGateway();
    let clock = Date.now();
    const { dispatcher } = await instance(
      knex,
      model.gateway,
      {
        concurrency: 1,
        prefetch: 4,
        leaseMs: 1000,
        pollIntervalMs: 10 * 60_000,
      },
      () => clock,
    );
    await Promise.all([51, 52].map(id => dispatcher.receive(order(id))));
    await waitFor(async () => model.calls.length === 1, {
      what: 'the first prediction to start',
    });
    // 52 waited in the queue past half its lease.
    clock += 600;
    model.release();
    await waitFor(
      async () =>
        (
          await knex('subscription_deliveries')
            .where('status', 'predicted')
            .count({ n: '*' })
        )[0].n === 1,
      { what: 'the first event marked done' },
    );
    await new Promise(r => setTimeout(r, 200));
    expect(model.calls).toEqual([51]);
    // Once its lease has ended, the poll claims and predicts it.
    clock += 1000;
    await dispatcher.poll();
    await waitFor(async () => model.calls.length === 2, {
      what: 'the poll to predict the event left over',
    });
    expect(model.calls).toEqual([51, 52]);
    await dispatcher.stop();
  });

  it.each(storeTestDatabases.eachSupportedId())(
    'predicts an event two instances both receive once, on %s',
    async databaseId => {
      const knex = await subscribedDatabase(databaseId);
      // Two instances on one database, each with a model that answers.
      const instances = await Promise.all(
        [slowGateway(), slowGateway()].map(gateway => {
          gateway.release();
          return instance(knex, gateway.gateway).then(i => ({
            ...i,
            calls: gateway.calls,
          }));
        }),
      );
      const ids = [31, 32, 33, 34, 35];
      // Each event reaches both instances (each consumes the topic), at once.
      await Promise.all(
        ids.flatMap(id =>
          instances.map(({ dispatcher }) => dispatcher.receive(order(id))),
        ),
      );
      const outputs = () => instances.flatMap(i => i.outputs);
      await waitFor(async () => outputs().length >= ids.length, {
        what: 'the predictions',
      });
      await new Promise(r => setTimeout(r, 300));
      await Promise.all(instances.map(({ dispatcher }) => dispatcher.stop()));
      expect(
        outputs()
          .map(o => (o.eventPayload as { sourceEventId: string }).sourceEventId)
          .sort(),
      ).toEqual(ids.map(id => `order-${id}`));
      expect([...instances[0].calls, ...instances[1].calls].sort()).toEqual(
        ids,
      );
      expect(await instances[0].store.getSubscription('s1')).toMatchObject({
        received: 5,
        predicted: 5,
      });
    },
  );

  describe('micro-batching', () => {
    /** A model that answers one prediction per row (id × 2), refusing id 13. */
    function rowWiseGateway(answer?: (ids: number[]) => unknown) {
      const calls: number[][] = [];
      const sources: unknown[] = [];
      const gateway = {
        predict: jest.fn(
          async (
            _ref: unknown,
            body: InvocationBody,
            _credentials: unknown,
            via: { source?: unknown },
          ) => {
            const { json } = await body();
            const ids = (
              json as { dataframe_records: Array<{ id: number }> }
            ).dataframe_records.map(r => r.id);
            calls.push(ids);
            sources.push(via.source);
            if (ids.includes(13)) {
              return { status: 400, body: Buffer.from('{"error":"bad id"}') };
            }
            const predictions = answer
              ? answer(ids)
              : ids.map((id: number) => id * 2);
            return {
              status: 200,
              body: Buffer.from(JSON.stringify({ predictions })),
            };
          },
        ),
      };
      return { gateway: gateway as unknown as Gateway, calls, sources };
    }

    const outputOf = (outputs: EventParams[], sourceEventId: string) =>
      outputs.find(
        o =>
          (o.eventPayload as { sourceEventId?: string }).sourceEventId ===
          sourceEventId,
      )?.eventPayload as { predictions: unknown; rows: number } | undefined;

    it('predicts events ready together in one model call and gives each its own predictions', async () => {
      const knex = await subscribedDatabase();
      const model = rowWiseGateway();
      const { dispatcher, outputs } = await instance(knex, model.gateway, {
        concurrency: 8,
        maxBatchEvents: 4,
      });
      const ids = [1, 2, 3, 4, 5, 6];
      await Promise.all(ids.map(id => dispatcher.receive(order(id))));
      await waitFor(async () => outputs.length === ids.length, {
        what: 'every event predicted',
      });
      // Stored in one write, then predicted in calls of at most 4 events.
      expect(model.calls).toEqual([
        [1, 2, 3, 4],
        [5, 6],
      ]);
      expect(model.sources[1]).toEqual({
        subscriptionId: 's1',
        eventId: 'order-5',
        events: [
          { eventId: 'order-5', rows: 1 },
          { eventId: 'order-6', rows: 1 },
        ],
      });
      for (const id of ids) {
        expect(outputOf(outputs, `order-${id}`)).toMatchObject({
          rows: 1,
          predictions: [id * 2],
        });
      }
      await dispatcher.stop();
      expect(await predictedCount(knex)).toBe(ids.length);
    });

    it('predicts each event alone when the model refuses the batch, so that only the bad one is dead-lettered', async () => {
      const knex = await subscribedDatabase();
      const model = rowWiseGateway();
      const { dispatcher, outputs, events } = await instance(
        knex,
        model.gateway,
        { concurrency: 8, maxBatchEvents: 32 },
      );
      const dead: EventParams[] = [];
      await events.subscribe({
        id: 'test-dead',
        topics: ['ml-platform.deadletter'],
        onEvent: async e => {
          dead.push(e);
        },
      });
      await Promise.all([11, 12, 13].map(id => dispatcher.receive(order(id))));
      await waitFor(async () => outputs.length === 2 && dead.length === 1, {
        what: 'two predictions and a dead letter',
      });
      expect(model.calls).toEqual([[11, 12, 13], [11], [12], [13]]);
      expect(outputOf(outputs, 'order-11')?.predictions).toEqual([22]);
      expect(outputOf(outputs, 'order-12')?.predictions).toEqual([24]);
      expect(dead[0].eventPayload).toMatchObject({
        sourceEventId: 'order-13',
        reason: expect.stringMatching(/model error: the model answered 400/),
      });
      await dispatcher.stop();
    });

    it("predicts a subscription's events one by one once its model's answer does not split into one prediction per row", async () => {
      const knex = await subscribedDatabase();
      // One answer for the whole request, however many rows.
      const model = rowWiseGateway(ids => [ids.reduce((a, b) => a + b, 0)]);
      const { dispatcher, outputs } = await instance(knex, model.gateway, {
        concurrency: 8,
        maxBatchEvents: 32,
      });
      await Promise.all([1, 2].map(id => dispatcher.receive(order(id))));
      await waitFor(async () => outputs.length === 2, {
        what: 'the first two events predicted',
      });
      await Promise.all([3, 4].map(id => dispatcher.receive(order(id))));
      await waitFor(async () => outputs.length === 4, {
        what: 'the next two events predicted',
      });
      expect(model.calls).toEqual([[1, 2], [1], [2], [3], [4]]);
      expect(outputOf(outputs, 'order-2')?.predictions).toEqual([2]);
      expect(outputOf(outputs, 'order-4')?.predictions).toEqual([4]);
      await dispatcher.stop();
    });
  });
});
