import { mockServices } from '@backstage/backend-test-utils';
import {
  DefaultEventsService,
  EventParams,
} from '@backstage/plugin-events-node';
import { createTestStores, storeTestDatabases } from '../__testUtils__/stores';
import { DatabaseSubscriptionStore } from '../database/subscriptions/DatabaseSubscriptionStore';
import { waitFor } from '../__testUtils__/modelRepository';
import { Gateway } from '../gateway/Gateway';
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
  refreshIntervalMs: 60_000,
};

/** A gateway whose first answer waits until `release()`. */
function slowGateway() {
  let release = () => {};
  const released = new Promise<void>(r => {
    release = r;
  });
  const calls: string[] = [];
  const gateway = {
    predict: jest.fn(async (_ref: unknown, body: () => Promise<Buffer>) => {
      const rows = JSON.parse((await body()).toString()).dataframe_records;
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

describe('SubscriptionDispatcher', () => {
  it('releases the claim of a prediction still under way when it stops, so the next instance takes the event at once', async () => {
    const { knex } = await createTestStores('SQLITE_3');
    const store = new DatabaseSubscriptionStore(knex);
    await store.createSubscription({
      id: 's1',
      modelRef: 'component:default/churn',
      deploymentId: 'd1',
      topic: 'orders',
      mapping: { columns: { id: '$.id' } },
      outputTopic: 'ml-platform.prediction.churn',
      enabled: true,
      createdAt: new Date().toISOString(),
    });
    const events = DefaultEventsService.create({
      logger: mockServices.logger.mock(),
    });
    const outputs: EventParams[] = [];
    await events.subscribe({
      id: 'test-output',
      topics: ['ml-platform.prediction.churn'],
      onEvent: async e => {
        outputs.push(e);
      },
    });
    const dispatcher = (gateway: Gateway) =>
      new SubscriptionDispatcher({
        store,
        events,
        gateway,
        auth: mockServices.auth(),
        logger: mockServices.logger.mock(),
        settings,
      });

    const first = slowGateway();
    const stopping = dispatcher(first.gateway);
    await stopping.start();
    await stopping.receive({
      topic: 'orders',
      eventPayload: { id: 21 },
      metadata: { 'x-event-id': 'order-21' },
    });
    await waitFor(async () => first.calls.length === 1, {
      what: 'the prediction to start',
    });
    // Stopped while the model still answers (a 100 ms drain).
    await stopping.stop(100);
    const [delivery] = await knex('subscription_deliveries').select();
    expect(delivery).toMatchObject({
      status: 'pending',
      claimed_by: null,
      claimed_until: null,
    });

    const second = slowGateway();
    second.release();
    const next = dispatcher(second.gateway);
    await next.start();
    await waitFor(async () => outputs.length === 1, {
      what: 'the next instance to predict the event',
      timeoutMs: 10_000,
    });
    expect(outputs[0].eventPayload).toMatchObject({
      sourceEventId: 'order-21',
      predictions: [42],
    });
    expect(second.calls).toEqual([21]);
    await next.stop();
    expect(await knex('subscription_deliveries').first()).toMatchObject({
      status: 'predicted',
    });
    first.release();
  });

  it('lets a prediction under way finish before it stops', async () => {
    const { knex } = await createTestStores('SQLITE_3');
    const store = new DatabaseSubscriptionStore(knex);
    await store.createSubscription({
      id: 's1',
      modelRef: 'component:default/churn',
      deploymentId: 'd1',
      topic: 'orders',
      mapping: { columns: { id: '$.id' } },
      outputTopic: 'ml-platform.prediction.churn',
      enabled: true,
      createdAt: new Date().toISOString(),
    });
    const slow = slowGateway();
    const dispatcher = new SubscriptionDispatcher({
      store,
      events: DefaultEventsService.create({
        logger: mockServices.logger.mock(),
      }),
      gateway: slow.gateway,
      auth: mockServices.auth(),
      logger: mockServices.logger.mock(),
      settings,
    });
    await dispatcher.start();
    await dispatcher.receive({
      topic: 'orders',
      eventPayload: { id: 5 },
      metadata: { 'x-event-id': 'order-5' },
    });
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
  it.each(storeTestDatabases.eachSupportedId())(
    'predicts an event two instances both receive once, on %s',
    async databaseId => {
      const { knex } = await createTestStores(databaseId);
      // Two stores on one database: two backend instances.
      const stores = [
        new DatabaseSubscriptionStore(knex),
        new DatabaseSubscriptionStore(knex),
      ];
      await stores[0].createSubscription({
        id: 's1',
        modelRef: 'component:default/churn',
        deploymentId: 'd1',
        topic: 'orders',
        mapping: { columns: { id: '$.id' } },
        outputTopic: 'ml-platform.prediction.churn',
        enabled: true,
        createdAt: new Date().toISOString(),
      });
      const outputs: EventParams[] = [];
      const instances = await Promise.all(
        stores.map(async store => {
          const events = DefaultEventsService.create({
            logger: mockServices.logger.mock(),
          });
          await events.subscribe({
            id: 'test-output',
            topics: ['ml-platform.prediction.churn'],
            onEvent: async e => {
              outputs.push(e);
            },
          });
          const gateway = slowGateway();
          gateway.release();
          const dispatcher = new SubscriptionDispatcher({
            store,
            events,
            gateway: gateway.gateway,
            auth: mockServices.auth(),
            logger: mockServices.logger.mock(),
            settings,
          });
          await dispatcher.start();
          return { dispatcher, calls: gateway.calls };
        }),
      );
      const ids = [31, 32, 33, 34, 35];
      // Each event reaches both instances (each consumes the topic), at once.
      await Promise.all(
        ids.flatMap(id =>
          instances.map(({ dispatcher }) =>
            dispatcher.receive({
              topic: 'orders',
              eventPayload: { id },
              metadata: { 'x-event-id': `order-${id}` },
            }),
          ),
        ),
      );
      await waitFor(async () => outputs.length >= ids.length, {
        what: 'the predictions',
      });
      await new Promise(r => setTimeout(r, 300));
      await Promise.all(instances.map(({ dispatcher }) => dispatcher.stop()));
      expect(
        outputs
          .map(o => (o.eventPayload as { sourceEventId: string }).sourceEventId)
          .sort(),
      ).toEqual(ids.map(id => `order-${id}`));
      expect([...instances[0].calls, ...instances[1].calls].sort()).toEqual(
        ids,
      );
      expect(await stores[0].getSubscription('s1')).toMatchObject({
        received: 5,
        predicted: 5,
      });
    },
  );
});
