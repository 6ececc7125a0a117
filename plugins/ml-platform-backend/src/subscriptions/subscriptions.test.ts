import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import eventsPlugin from '@backstage/plugin-events-backend';
import {
  EventParams,
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import {
  DEAD_LETTER_TOPIC,
  PREDICTION_EVENTS_TOPIC,
  PredictionEvent,
} from '@internal/plugin-ml-platform-common';
import type { JsonObject } from '@backstage/types';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mlPlatformPlugin } from '../plugin';
import { churnReference, churnRow } from '../__testUtils__/churnReference';
import { ModelRepository, waitFor } from '../__testUtils__/modelRepository';
import { fakeLoki } from '../__testUtils__/fakeLoki';
import { api, deployOnline } from '../__testUtils__/platformApi';
import { DatabasePredictionEventStore } from '../database/predictionEvents/DatabasePredictionEventStore';

jest.setTimeout(180_000);

const OUTPUT_TOPIC = 'ml-platform.prediction.churn';

/** Everything published on the topics a downstream consumer would read. */
const received: EventParams[] = [];
const on = (topic: string) => received.filter(e => e.topic === topic);
/** Prediction events, published in batches of `{ events: [...] }`. */
const predictionEvents = (): PredictionEvent[] =>
  on(PREDICTION_EVENTS_TOPIC).flatMap(
    e => (e.eventPayload as { events: PredictionEvent[] }).events,
  );

const testSubscriber = createBackendModule({
  pluginId: 'events',
  moduleId: 'test-subscriber',
  register(env) {
    env.registerInit({
      deps: { events: eventsServiceRef },
      async init({ events }) {
        await events.subscribe({
          id: 'test-subscriber',
          topics: [PREDICTION_EVENTS_TOPIC, OUTPUT_TOPIC, DEAD_LETTER_TOPIC],
          async onEvent(event) {
            received.push(event);
          },
        });
      },
    });
  },
});

/** An order event: the customer's fields nested, as a shop would send them. */
function order(i: number, overrides: Record<string, unknown> = {}) {
  const row = churnRow(i);
  return {
    type: 'churn-check',
    customer: {
      tenure: row.tenure_months,
      monthly: row.monthly_charges,
      total: row.total_charges,
      contract: row.contract,
      calls: row.support_calls,
      internet: row.has_internet,
    },
    ...overrides,
  };
}

const MAPPING = {
  columns: {
    tenure_months: '$.customer.tenure',
    monthly_charges: '$.customer.monthly',
    total_charges: '$.customer.total',
    contract: '$.customer.contract',
    support_calls: '$.customer.calls',
    has_internet: '$.customer.internet',
  },
};

describe('events in and out: subscriptions and prediction events', () => {
  let repo: ModelRepository;
  let dataDir: string;
  let config: JsonObject;
  let server: any;
  let stop: () => Promise<void>;
  let deploymentId: string;
  let loki: Awaited<ReturnType<typeof fakeLoki>>;
  let subscriptionId: string;
  const reference = churnReference();

  const start = async () => {
    const backend = await startTestBackend({
      features: [
        mlPlatformPlugin,
        catalogPlugin,
        eventsPlugin,
        eventsServiceFactory,
        testSubscriber,
        schedulerServiceFactory,
        databaseServiceFactory,
        mockServices.rootConfig.factory({ data: config }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
    await waitFor(
      async () =>
        (await request(server).get(api('/models/default/churn'))).status ===
        200,
      { what: 'the catalog to ingest the model' },
    );
  };

  const postEvent = (body: object, eventId?: string) => {
    const req = request(server)
      .post('/api/events/http/orders')
      .set('Content-Type', 'application/json');
    if (eventId) req.set('X-Event-Id', eventId);
    return req.send(JSON.stringify(body));
  };

  const subscription = async () =>
    (await request(server).get(api(`/subscriptions/${subscriptionId}`))).body;

  /** An export, its streamed body as text, checked for its content type. */
  const exportEvents = async (query: string, contentType: RegExp) =>
    (
      await request(server)
        .get(api(`/models/default/churn/events/export?${query}`))
        .buffer(true)
        .parse((r, done) => {
          let text = '';
          r.on('data', (c: Buffer) => (text += c.toString()));
          r.on('end', () => done(null, text));
        })
        .expect('Content-Type', contentType)
        .expect(200)
    ).body as string;

  beforeAll(async () => {
    repo = await ModelRepository.create({ churn: 'churn' });
    loki = await fakeLoki();
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-events-'));
    const catalogFile = path.join(dataDir, 'catalog-info.yaml');
    await fs.promises.writeFile(
      catalogFile,
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata: { name: churn, namespace: default }',
        'spec: { type: ml-model, owner: group:default/data-science, lifecycle: experimental }',
        '',
      ].join('\n'),
    );
    config = {
      backend: {
        database: {
          client: 'better-sqlite3',
          connection: { directory: path.join(dataDir, 'db') },
        },
      },
      catalog: {
        locations: [{ type: 'file', target: catalogFile }],
        rules: [{ allow: ['Component'] }],
        processingInterval: { seconds: 1 },
      },
      events: { http: { topics: ['orders'] } },
      mlPlatform: {
        dataDir,
        git: { root: repo.root },
        builds: { pollInterval: 0, heartbeatInterval: 200 },
        online: { reconcileInterval: 500 },
        events: { flushInterval: 500, redactFields: ['customer_email'] },
        subscriptions: { pollInterval: 100, retryBackoff: 50, maxAttempts: 2 },
        logs: { flushInterval: 100, loki: { url: loki.url } },
      },
    };
    await start();
    deploymentId = (await deployOnline(server, repo.url)).id;
  });

  afterAll(async () => {
    await stop?.();
    await repo?.remove();
    await loki?.close();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  it('publishes every call as a prediction event, stores it redacted and exports it as JSON lines and CSV', async () => {
    const rows = [0, 1].map(i => ({
      ...churnRow(i),
      customer_email: `customer${i}@example.com`,
    }));
    const res = await request(server)
      .post(api('/models/default/churn/predict'))
      .send({ dataframe_records: rows })
      .expect(200);
    const published = await waitFor(async () => predictionEvents().at(0), {
      what: 'the prediction event on ml-platform.prediction',
    });
    expect(published).toMatchObject({
      modelRef: 'component:default/churn',
      version: 1,
      deploymentId,
      caller: 'user:default/mock',
      callerKind: 'user',
      trigger: 'http',
      route: 'records',
      status: 200,
      rows: 2,
      sampled: true,
      response: res.body,
      request: {
        dataframe_records: rows.map(r => ({
          ...r,
          customer_email: '[redacted]',
        })),
      },
    });
    // Published within a tenth of a second; stored at the next write.
    const items = await waitFor(
      async () => {
        const page = await request(server)
          .get(api('/models/default/churn/events?status=2xx&limit=10'))
          .expect(200);
        return page.body.items.length > 0 ? page.body.items : undefined;
      },
      { what: 'the stored prediction event' },
    );
    expect(items).toEqual([published]);
    const exported = await exportEvents(
      'format=jsonl',
      /application\/x-ndjson/,
    );
    const lines = exported.trim().split('\n');
    expect(lines.map(l => JSON.parse(l))).toEqual([published]);
    expect(exported).not.toContain('example.com');

    const csv = await exportEvents('format=csv&status=2xx', /text\/csv/);
    const [header, line, ...more] = csv.trim().split('\n');
    expect(more).toEqual([]);
    const columns = header.split(',');
    expect(columns.slice(0, 4)).toEqual(['id', 'time', 'modelRef', 'version']);
    expect(line.startsWith(`${published.id},`)).toBe(true);
    expect(line).toContain(',component:default/churn,1,');
    // The request is one JSON cell, quoted, redacted.
    expect(line).toContain('[redacted]');
    expect(csv).not.toContain('example.com');
  });

  it('stores the events of 2,000 calls in far fewer writes than calls', async () => {
    const exportedCount = async () =>
      (await exportEvents('format=jsonl', /application\/x-ndjson/))
        .split('\n')
        .filter(l => l.trim()).length;
    const before = await exportedCount();
    const writes = jest.spyOn(
      DatabasePredictionEventStore.prototype,
      'insertSegments',
    );
    try {
      const calls = 2000;
      let next = 0;
      const worker = async () => {
        while (next < calls) {
          const i = next++;
          await request(server)
            .post(api('/models/default/churn/predict'))
            .send({ dataframe_records: [churnRow(i)] })
            .expect(200);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await waitFor(async () => (await exportedCount()) === before + calls, {
        what: 'the 2,000 events in the store',
        timeoutMs: 60_000,
      });
      const written = writes.mock.calls.reduce(
        (sum, [segments]) => sum + segments.reduce((n, s) => n + s.count, 0),
        0,
      );
      expect(written).toBe(calls);
      // At least ten events per write on average (flushes every 500 ms here,
      // or at 500 events).
      expect(writes.mock.calls.length).toBeGreaterThan(0);
      expect(writes.mock.calls.length * 10).toBeLessThanOrEqual(calls);
    } finally {
      writes.mockRestore();
    }
  });

  it('searches the build and deployment logs, and ships them to Loki', async () => {
    const search = async (query: string) =>
      (
        await request(server)
          .get(api(`/models/default/churn/logs?${query}`))
          .expect(200)
      ).body;
    const build = await waitFor(
      async () => {
        const page = await search('source=build');
        return page.items.length > 0 ? page : undefined;
      },
      { what: 'build log lines' },
    );
    expect(build.items[0]).toMatchObject({ source: 'build', version: 1 });
    const word = build.items
      .map((l: { line: string }) => l.line)
      .find((l: string) => /[a-z]{5,}/i.test(l))
      .match(/[a-z]{5,}/i)[0];
    const found = await search(`source=build&q=${word.toUpperCase()}`);
    expect(found.items.length).toBeGreaterThan(0);
    for (const l of found.items) {
      expect(l.line.toLowerCase()).toContain(word.toLowerCase());
    }
    const deployment = await waitFor(
      async () => {
        const page = await search('source=deployment');
        return page.items.length > 0 ? page : undefined;
      },
      { what: 'deployment log lines' },
    );
    expect(deployment.items[0]).toMatchObject({
      source: 'deployment',
      subjectId: deploymentId,
      version: 1,
    });
    // Following: nothing newer than the last line yet.
    const after = await search(`source=build&after=${build.lastId}`);
    expect(after.items.every((l: { id: number }) => l.id > build.lastId)).toBe(
      true,
    );
    const bad = await request(server).get(
      api('/models/default/churn/logs?source=replica'),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/query\.source/);

    await waitFor(
      async () =>
        loki.pushes.some(p =>
          p.body.streams.some(
            (s: any) =>
              s.stream.model === 'churn' &&
              s.stream.source === 'deployment' &&
              s.stream.version === '1',
          ),
        ),
      { what: 'deployment lines in Loki' },
    );
    const labels = loki.pushes.flatMap(p =>
      p.body.streams.map((s: any) => s.stream),
    );
    expect(labels).toContainEqual(
      expect.objectContaining({
        model: 'churn',
        version: '1',
        source: 'build',
      }),
    );
  });

  it('turns a subscribed event into a prediction on the output topic, with the source event id', async () => {
    const created = await request(server)
      .post(api('/models/default/churn/subscriptions'))
      .send({
        deploymentId,
        topic: 'orders',
        filter: { path: '$.type', equals: 'churn-check' },
        mapping: MAPPING,
      });
    expect(created.status).toBe(201);
    subscriptionId = created.body.id;
    expect(created.body).toMatchObject({
      outputTopic: OUTPUT_TOPIC,
      enabled: true,
      counters: { received: 0, predicted: 0 },
    });

    await postEvent(order(5), 'order-5').expect(202);
    const out = await waitFor(async () => on(OUTPUT_TOPIC).at(0), {
      what: 'the prediction on the output topic',
    });
    const row = churnRow(5);
    expect(out.eventPayload).toMatchObject({
      sourceEventId: 'order-5',
      subscriptionId,
      modelRef: 'component:default/churn',
      deploymentId,
      rows: 1,
      predictions: [
        { churn_probability: reference(row), churn: expect.any(Boolean) },
      ],
    });
    // The call is a prediction event of its own, triggered by the event.
    const triggered = await waitFor(
      async () => predictionEvents().find(e => e.trigger === 'event'),
      { what: 'the event-triggered prediction event' },
    );
    expect(triggered).toMatchObject({
      sourceEventId: 'order-5',
      subscriptionId,
      callerKind: 'event',
      route: 'event',
    });
  });

  it('filters, predicts a redelivered event once, and dead-letters a malformed one with its reason', async () => {
    await postEvent(order(6, { type: 'newsletter' }), 'order-6').expect(202);
    await postEvent(order(7), 'order-7').expect(202);
    await postEvent(order(7), 'order-7').expect(202);
    // No id at all: the same payload twice is the same event too.
    await postEvent(order(8)).expect(202);
    await postEvent(order(8)).expect(202);
    await postEvent(
      { type: 'churn-check', customer: { tenure: 3 } },
      'bad-1',
    ).expect(202);

    const counters = await waitFor(
      async () => {
        const c = (await subscription()).counters;
        return c.predicted === 3 && c.filtered === 1 && c.failed === 1
          ? c
          : undefined;
      },
      { what: 'the events to be handled' },
    );
    expect(counters).toMatchObject({ received: 5, lagSeconds: 0 });
    const outputs = on(OUTPUT_TOPIC).map(
      e => (e.eventPayload as any).sourceEventId,
    );
    expect(outputs.filter(id => id === 'order-7')).toHaveLength(1);
    expect(outputs).not.toContain('order-6');
    expect(outputs).toHaveLength(3);

    const letters = await request(server)
      .get(api(`/subscriptions/${subscriptionId}/deadletters`))
      .expect(200);
    expect(letters.body.items).toEqual([
      expect.objectContaining({
        eventId: 'bad-1',
        topic: 'orders',
        reason: expect.stringMatching(
          /bad payload: mapping\.columns\.monthly_charges: no value at \$\.customer\.monthly/,
        ),
      }),
    ]);
    const dead = await waitFor(async () => on(DEAD_LETTER_TOPIC).at(0), {
      what: 'the dead letter on ml-platform.deadletter',
    });
    expect(dead.eventPayload).toMatchObject({
      subscriptionId,
      sourceEventId: 'bad-1',
      reason: letters.body.items[0].reason,
    });

    // A model error is a dead letter too; retried on request, it fails again.
    await postEvent(
      order(9, { customer: { ...order(9).customer, contract: 'lifetime' } }),
      'bad-2',
    ).expect(202);
    const modelError = await waitFor(
      async () =>
        (
          await request(server).get(
            api(`/subscriptions/${subscriptionId}/deadletters`),
          )
        ).body.items.find((l: any) => l.eventId === 'bad-2'),
      { what: 'the model error in the dead letters' },
    );
    expect(modelError.reason).toMatch(
      /model error: .*unknown contract 'lifetime'/,
    );
    await request(server)
      .post(
        api(
          `/subscriptions/${subscriptionId}/deadletters/${modelError.id}/retry`,
        ),
      )
      .expect(202);
    await waitFor(async () => (await subscription()).counters.failed === 3, {
      what: 'the retried event to fail again',
    });
  });

  it('loses nothing across a backend restart: subscriptions and keys outlive it', async () => {
    await postEvent(order(10), 'order-10').expect(202);
    await waitFor(
      async () =>
        on(OUTPUT_TOPIC).some(
          e => (e.eventPayload as any).sourceEventId === 'order-10',
        ),
      { what: 'the event before the restart' },
    );
    // Handled, not only seen: its output reached every subscriber of the
    // events service (the bus too), so it is marked done. Stopped while
    // the bus still took it, it would be predicted again (at least once).
    await waitFor(async () => (await subscription()).counters.predicted === 4, {
      what: 'the event before the restart to be counted',
    });
    await stop();
    received.length = 0;
    await start();
    await waitFor(
      async () =>
        (
          await request(server).get(api(`/deployments/${deploymentId}`))
        ).body.status === 'ready',
      { what: 'the deployment after the restart', timeoutMs: 60_000 },
    );
    await postEvent(order(11), 'order-11').expect(202);
    // Redelivered after the restart: still predicted once.
    await postEvent(order(10), 'order-10').expect(202);
    const out = await waitFor(
      async () =>
        on(OUTPUT_TOPIC).find(
          e => (e.eventPayload as any).sourceEventId === 'order-11',
        ),
      { what: 'the event after the restart' },
    );
    expect((out.eventPayload as any).predictions[0].churn_probability).toBe(
      reference(churnRow(11)),
    );
    // Counters are added in the database once per poll: wait for them, then
    // give a second prediction of order-10 time to show up.
    await waitFor(
      async () => {
        const c = (await subscription()).counters;
        return c.predicted >= 5 && c.received >= 8;
      },
      { what: 'the counters of the events after the restart' },
    );
    await new Promise(r => setTimeout(r, 1000));
    expect(
      on(OUTPUT_TOPIC).filter(
        e => (e.eventPayload as any).sourceEventId === 'order-10',
      ),
    ).toHaveLength(0);
    expect((await subscription()).counters).toMatchObject({
      predicted: 5,
      received: 8,
    });
    const metrics = await request(server).get(api('/metrics')).expect(200);
    expect(metrics.text).toContain(
      `ml_platform_subscription_events_total{namespace="default",model="churn",subscription="${subscriptionId}",topic="orders",outcome="predicted"} 5`,
    );
  });
  it('predicts an event received just before a stop at least once, before the stop or after the restart', async () => {
    const outputsOf = (id: string) =>
      on(OUTPUT_TOPIC).filter(
        e => (e.eventPayload as { sourceEventId: string }).sourceEventId === id,
      );
    await postEvent(order(12), 'order-12').expect(202);
    // Stopped at once: the prediction may be under way, or not yet made;
    // its output may be published before the events service stops, or not.
    await stop();
    const before = outputsOf('order-12');
    received.length = 0;
    // After a restart the replica takes a moment to come back: enough
    // attempts for that. The claim's lease (1 min) is longer than this test
    // waits: a claim the stopped instance kept would fail it.
    (config.mlPlatform as JsonObject).subscriptions = {
      pollInterval: 100,
      retryBackoff: 200,
      maxAttempts: 8,
    };
    await start();
    await waitFor(
      async () =>
        before.length + outputsOf('order-12').length > 0 &&
        (await subscription()).counters.predicted >= 6,
      { what: 'the event received before the stop', timeoutMs: 40_000 },
    );
    await new Promise(r => setTimeout(r, 1000));
    const all = [...before, ...outputsOf('order-12')];
    // Twice at most: when the stop cut a publish short, the prediction is
    // made again after the restart, under the same x-event-id.
    expect(all.length).toBeLessThanOrEqual(2);
    expect(new Set(all.map(e => e.metadata?.['x-event-id'])).size).toBe(1);
    const letters = await request(server)
      .get(api(`/subscriptions/${subscriptionId}/deadletters`))
      .expect(200);
    expect(
      letters.body.items.map((l: { eventId: string }) => l.eventId),
    ).not.toContain('order-12');
  });
});
