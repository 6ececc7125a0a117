import {
  AuthService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { EventParams, EventsService } from '@backstage/plugin-events-node';
import { ServiceUnavailableError } from '@backstage/errors';
import { DEAD_LETTER_TOPIC } from '@internal/plugin-ml-platform-common';
import { FlushBuffer } from '../lib/FlushBuffer';
import { GroupWrite } from '../lib/GroupWrite';
import { splitRows } from '../lib/splitRows';
import { uuidv7 } from '../lib/uuidv7';
import { randomUUID } from 'node:crypto';
import {
  Counter,
  DeliveryRecord,
  NewDelivery,
  SubscriptionRecord,
  SubscriptionStore,
} from '../database/subscriptions/SubscriptionStore';
import { Gateway } from '../gateway/Gateway';
import { statusOf } from '../gateway/errors';
import { eventKeyOf } from './eventKeys';
import { PayloadError, mapPayload, passesFilter } from './payloadRules';

/** `mlPlatform.subscriptions`, with defaults applied. */
export interface DispatcherSettings {
  /** Attempts of a delivery whose model had no ready replica. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt. */
  retryBackoffMs: number;
  /** How often due deliveries (retries, leftovers of a restart) are claimed. */
  pollIntervalMs: number;
  /** How long a claim holds before another instance may take it over. */
  leaseMs: number;
  /** Deliveries worked on at once by this instance. */
  concurrency: number;
  /**
   * Deliveries this instance claims as they are stored beyond its free
   * slots, queued in memory until a slot frees: under a burst, events go
   * from the inbox to the model without a claim query each.
   */
  prefetch: number;
  /** How often subscriptions made on other instances are picked up. */
  refreshIntervalMs: number;
  /**
   * Events of one subscription that are ready together (stored in the same
   * write, or freed in the same turn) predicted in one model call, at most;
   * 1 predicts each event alone.
   */
  maxBatchEvents: number;
}

/** A model answer the dispatcher does not retry: the event goes to the dead letters. */
class DeliveryFailed extends Error {}

/** An answer to several events that does not split into one prediction per row. */
class AnswerNotSplit extends DeliveryFailed {}

/** An event's rows, waiting to be predicted with others of its subscription. */
interface BatchItem {
  delivery: DeliveryRecord;
  rows: Record<string, unknown>[];
  resolve(predictions: unknown): void;
  reject(error: unknown): void;
}

/** How long a model whose answers do not split gets its events one by one. */
const UNBATCHABLE_MS = 10 * 60_000;

/** Statuses where the model was not reached: tried again after a backoff. */
const UNAVAILABLE = new Set([502, 503, 504]);

function excerpt(body: Buffer): string {
  const text = body.toString('utf8', 0, 300).replace(/\s+/g, ' ').trim();
  return body.length > 300 ? `${text}…` : text;
}

/**
 * Turns events on subscribed topics into predictions. An event is first
 * stored as a delivery under its idempotency key (the unique constraint
 * makes a redelivery, or the same event seen by another instance, no new
 * delivery), then claimed, filtered, mapped to rows and predicted through
 * the gateway; the answer goes to the subscription's output topic with the
 * source event's id. Unreachable models are retried with backoff; a bad
 * payload, a model error or too many attempts end as a dead letter,
 * published on `ml-platform.deadletter`. Pending deliveries outlive a
 * restart: the poll picks them up.
 */
export class SubscriptionDispatcher {
  private readonly owner = randomUUID();
  private readonly topics = new Set<string>();
  private byTopic = new Map<string, SubscriptionRecord[]>();
  private byId = new Map<string, SubscriptionRecord>();
  /** Counter increments not yet added in the database (one write per poll). */
  private counts = new Map<string, Partial<Record<Counter, number>>>();
  private working = 0;
  /** Deliveries claimed as they are stored, not yet running. */
  private reserved = 0;
  /**
   * Deliveries claimed as they were stored, waiting for a slot, oldest
   * first, with the end of their lease. Stopping leaves them to
   * `releaseClaims`; a crash, to the lease.
   */
  private queued: Array<{ delivery: DeliveryRecord; until: number }> = [];
  /** Events stored unclaimed since the last poll that took every due one. */
  private stored = 0;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private polling?: Promise<void>;
  private credentials?: Promise<BackstageCredentials>;
  /** Per subscription, the events of this turn still joining one model call. */
  private readonly batches = new Map<string, BatchItem[]>();
  /**
   * Subscriptions whose model's answer to several events did not split into
   * one prediction per row, with when to try batching again (a new build
   * may answer differently): until then their events go one by one.
   */
  private readonly unbatchable = new Map<string, number>();
  /**
   * Predicted deliveries, finished in the database in batches: one write
   * per batch rather than per event. A crash before the write leaves them
   * claimed; after the lease they are predicted again (at least once).
   */
  private readonly predicted: FlushBuffer<{ id: string; attempts: number }>;
  /**
   * The inbox: received events are stored in groups, each receiver waiting
   * for its own (the publisher learns of an event's receipt once it is
   * stored), one write per group rather than per event.
   */
  private readonly inbox: GroupWrite<NewDelivery, boolean>;

  constructor(
    private readonly options: {
      store: SubscriptionStore;
      events: EventsService;
      gateway: Gateway;
      auth: AuthService;
      logger: LoggerService;
      settings: DispatcherSettings;
      /** For tests: the clock, epoch milliseconds. */
      now?: () => number;
    },
  ) {
    const { settings, logger, store } = options;
    this.inbox = new GroupWrite({
      write: received => store.insertDeliveries(received),
      maxItems: 500,
      lingerMs: 1,
    });
    this.predicted = new FlushBuffer({
      flushIntervalMs: Math.min(settings.pollIntervalMs, 100),
      flushSize: 200,
      maxBuffered: 100_000,
      write: async finished => {
        try {
          await store.finishPredicted(finished, this.now());
        } catch (error) {
          // Still claimed: predicted again once their lease ends.
          logger.warn('predicted subscription events not marked done', {
            deliveries: finished.length,
            error: String(error),
          });
        }
      },
      onDropped: dropped =>
        logger.warn('predicted subscription events not marked done', {
          dropped,
        }),
    });
  }

  /** Subscribes to the stored subscriptions' topics and starts the poll. */
  async start() {
    this.stopped = false;
    await this.refresh();
    const { pollIntervalMs, refreshIntervalMs } = this.options.settings;
    this.timers.push(
      setInterval(() => void this.poll(), pollIntervalMs),
      setInterval(
        () =>
          void this.refresh().catch(error =>
            this.options.logger.warn('subscriptions not refreshed', {
              error: String(error),
            }),
          ),
        refreshIntervalMs,
      ),
    );
    for (const timer of this.timers) timer.unref?.();
    this.predicted.start();
    void this.poll();
  }

  /**
   * Stops polling, lets predictions under way finish (for at most
   * `drainMs`), then releases the claims this instance still holds so
   * that another instance, or this one after a restart, takes those
   * events at once rather than after the lease.
   */
  async stop(drainMs = 5000) {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.polling;
    const deadline = Date.now() + drainMs;
    // Events being stored claimed are about to run: waited for as well.
    while (this.working + this.reserved > 0 && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 20));
    }
    // Not started: their claims are released below, like the rest.
    this.queued = [];
    // Finished first: releasing their claims would predict them again.
    await this.predicted.stop();
    try {
      const released = await this.options.store.releaseClaims(this.owner);
      if (released > 0) {
        this.options.logger.info(
          'subscription events left to the next instance',
          {
            released,
          },
        );
      }
    } catch (error) {
      this.options.logger.warn('subscription claims not released', {
        error: String(error),
      });
    }
    await this.flushCounts();
  }

  /**
   * Re-reads the enabled subscriptions and subscribes this instance to any
   * topic it does not listen to yet (made here, or on another instance).
   */
  async refresh() {
    const all = await this.options.store.listSubscriptions({ enabled: true });
    const byTopic = new Map<string, SubscriptionRecord[]>();
    for (const s of all) {
      byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s]);
    }
    this.byTopic = byTopic;
    this.byId = new Map(all.map(s => [s.id, s]));
    for (const topic of byTopic.keys()) {
      if (this.topics.has(topic)) continue;
      this.topics.add(topic);
      await this.options.events.subscribe({
        id: `subscriptions.${topic}`,
        topics: [topic],
        onEvent: event => this.receive(event),
      });
      this.options.logger.info('listening for subscribed events', { topic });
    }
  }

  /**
   * An event on a subscribed topic: stored for each subscription (once per
   * key), then predicted without holding up the publisher.
   */
  async receive(event: EventParams): Promise<void> {
    const subscriptions = this.byTopic.get(event.topic) ?? [];
    const now = this.now();
    const { concurrency, prefetch, leaseMs } = this.options.settings;
    const received: Array<NewDelivery & { delivery: DeliveryRecord }> = [];
    for (const subscription of subscriptions) {
      const id = uuidv7(now);
      let eventKey: string;
      try {
        eventKey = eventKeyOf(event, subscription.idempotencyKey);
      } catch (error) {
        eventKey = `unkeyed:${id}`;
      }
      // Claimed by this instance as it is stored, when it has room to
      // predict it now or to queue it; else left for the poll (here or
      // elsewhere). A stopping instance only stores it.
      const claim =
        !this.stopped &&
        this.working + this.reserved + this.queued.length <
          concurrency + prefetch
          ? { owner: this.owner, until: now + leaseMs }
          : undefined;
      if (claim) this.reserved++;
      // Built whole: the claimed ones run from it as stored.
      const delivery: DeliveryRecord = {
        id,
        subscriptionId: subscription.id,
        eventKey,
        topic: event.topic,
        payload: event.eventPayload ?? null,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        receivedAt: now,
      };
      received.push({ delivery, claim });
    }
    let inserted: boolean[];
    try {
      // With the events received meanwhile: one write for all of them.
      inserted = await Promise.all(received.map(r => this.inbox.add(r)));
    } finally {
      for (const r of received) if (r.claim) this.reserved--;
    }
    received.forEach(({ delivery, claim }, i) => {
      if (!inserted[i]) {
        this.options.logger.debug('event already received', {
          subscriptionId: delivery.subscriptionId,
          eventKey: delivery.eventKey,
        });
        return;
      }
      this.count(delivery.subscriptionId, 'received');
      if (!claim) this.stored++;
      else if (this.working < concurrency) void this.run(delivery);
      else this.queued.push({ delivery, until: claim.until });
    });
  }

  /**
   * Claims due deliveries (retries, a restart's leftovers, events stored
   * while every slot was busy) and starts them, as many as there is room
   * for; claims again at once while it gets all it asked for.
   */
  poll(): Promise<void> {
    return this.claim(true);
  }

  /** A poll; the timer's also adds the counters up in the database. */
  private claim(withCounts: boolean): Promise<void> {
    if (this.polling || this.stopped) return this.polling ?? Promise.resolve();
    this.polling = (async () => {
      try {
        if (withCounts) await this.flushCounts();
        await this.claimWhileRoom();
      } catch (error) {
        this.options.logger.warn('subscription deliveries not polled', {
          error: String(error),
        });
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  /** Free slots, after those the queued deliveries will take. */
  private room() {
    const { concurrency } = this.options.settings;
    return concurrency - this.working - this.reserved - this.queued.length;
  }

  /**
   * Starts queued deliveries while slots are free. One whose lease is
   * half gone is left to the poll once the lease ends (here or on another
   * instance), so that no prediction starts on a claim about to lapse.
   */
  private startQueued() {
    const { concurrency, leaseMs } = this.options.settings;
    while (!this.stopped && this.working < concurrency) {
      const next = this.queued.shift();
      if (!next) return;
      if (next.until - this.now() < leaseMs / 2) {
        this.stored++;
        continue;
      }
      void this.run(next.delivery);
    }
  }

  private async claimWhileRoom() {
    const { store, settings } = this.options;
    for (
      let free = this.room();
      free > 0 && !this.stopped;
      free = this.room()
    ) {
      const stored = this.stored;
      const claimed = await store.claimDeliveries({
        owner: this.owner,
        now: this.now(),
        leaseMs: settings.leaseMs,
        limit: free,
      });
      for (const delivery of claimed) void this.run(delivery);
      if (claimed.length < free) {
        // All due ones taken, unless more were stored meanwhile.
        if (this.stored === stored) this.stored = 0;
        return;
      }
    }
  }

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  private count(subscriptionId: string, counter: Counter) {
    const counts = this.counts.get(subscriptionId) ?? {};
    counts[counter] = (counts[counter] ?? 0) + 1;
    this.counts.set(subscriptionId, counts);
  }

  /**
   * Adds the counted increments in the database, once the predictions they
   * count are marked done: a prediction is counted in the same step its
   * delivery joins the deliveries to mark done, so the flush below writes
   * every delivery these counts include first. Counters never run ahead
   * of the deliveries (every event predicted, yet a lag above 0).
   */
  private async flushCounts() {
    const counts = this.counts;
    this.counts = new Map();
    await this.predicted.flush();
    for (const [id, increments] of counts) {
      await this.options.store.count(id, increments);
    }
  }

  private async run(delivery: DeliveryRecord) {
    this.working++;
    try {
      await this.deliver(delivery);
    } catch (error) {
      this.options.logger.error('subscription delivery failed', {
        deliveryId: delivery.id,
        subscriptionId: delivery.subscriptionId,
        error: String(error),
      });
    } finally {
      this.working--;
      this.startQueued();
      // Events wait unclaimed: take them once half the slots are free
      // (a claim per few events, not per event), not at the next poll.
      const { concurrency } = this.options.settings;
      if (this.stored > 0 && this.room() >= Math.ceil(concurrency / 2)) {
        void this.claim(false);
      }
    }
  }

  private async deliver(delivery: DeliveryRecord) {
    const { store, settings } = this.options;
    const subscription =
      this.byId.get(delivery.subscriptionId) ??
      (await store.getSubscription(delivery.subscriptionId));
    if (!subscription) return; // deleted meanwhile, its deliveries with it
    const attempts = delivery.attempts + 1;
    const dead = async (reason: string) => {
      await store.finishDelivery(
        delivery.id,
        { status: 'dead', reason },
        attempts,
        this.now(),
      );
      this.count(subscription.id, 'failed');
      this.options.logger.warn('subscription event dead-lettered', {
        subscriptionId: subscription.id,
        eventId: delivery.eventKey,
        reason,
      });
      await this.publish(DEAD_LETTER_TOPIC, delivery.id, {
        subscriptionId: subscription.id,
        modelRef: subscription.modelRef,
        deploymentId: subscription.deploymentId,
        topic: delivery.topic,
        sourceEventId: delivery.eventKey,
        reason,
        attempts,
        payload: delivery.payload,
      });
    };

    let rows: Record<string, unknown>[];
    try {
      if (!passesFilter(subscription.filter, delivery.payload)) {
        await store.finishDelivery(
          delivery.id,
          { status: 'filtered' },
          attempts,
          this.now(),
        );
        this.count(subscription.id, 'filtered');
        return;
      }
      rows = mapPayload(subscription.mapping, delivery.payload);
    } catch (error) {
      await dead(
        error instanceof PayloadError
          ? `bad payload: ${error.message}`
          : `bad payload: ${String(error)}`,
      );
      return;
    }

    let predictions: unknown;
    try {
      predictions = await this.predictBatched(subscription, delivery, rows);
    } catch (error) {
      const status = statusOf(error);
      const reason = `${error instanceof Error ? error.message : error}`;
      // Thrown, not answered by the model: unreachable (502-504) or an
      // error of ours (500) is tried again; a refusal (4xx) is not.
      const transient =
        !(error instanceof DeliveryFailed) &&
        (UNAVAILABLE.has(status) || status === 500);
      if (transient && attempts < settings.maxAttempts) {
        await store.retryDelivery(
          delivery.id,
          attempts,
          this.now() + settings.retryBackoffMs * 2 ** (attempts - 1),
          reason,
        );
        return;
      }
      await dead(
        transient
          ? `no ready replica after ${attempts} attempts: ${reason}`
          : reason,
      );
      return;
    }
    const notPublished = await this.publish(
      subscription.outputTopic,
      delivery.id,
      {
        sourceEventId: delivery.eventKey,
        subscriptionId: subscription.id,
        modelRef: subscription.modelRef,
        deploymentId: subscription.deploymentId,
        topic: delivery.topic,
        rows: rows.length,
        predictions,
      },
    );
    if (notPublished) {
      // At least once: the prediction is made again later (here, on another
      // instance, or after a restart) rather than finished unpublished. A
      // consumer that got this one already knows it by its x-event-id.
      const reason = `output not published on ${subscription.outputTopic}: ${notPublished}`;
      if (attempts < settings.maxAttempts) {
        await store.retryDelivery(
          delivery.id,
          attempts,
          this.now() + settings.retryBackoffMs * 2 ** (attempts - 1),
          reason,
        );
      } else {
        await dead(reason);
      }
      return;
    }
    this.predicted.push({ id: delivery.id, attempts });
    this.count(subscription.id, 'predicted');
  }

  /**
   * The event's predictions, from one model call shared with the other
   * events of its subscription ready in the same turn of the event loop
   * (micro-batching: under a burst, one call for several events instead of
   * one each). Nothing waits for a batch to fill: a lone event is predicted
   * at the next turn.
   */
  private predictBatched(
    subscription: SubscriptionRecord,
    delivery: DeliveryRecord,
    rows: Record<string, unknown>[],
  ): Promise<unknown> {
    const { maxBatchEvents } = this.options.settings;
    const unbatchableUntil = this.unbatchable.get(subscription.id);
    if (unbatchableUntil !== undefined && unbatchableUntil <= this.now()) {
      this.unbatchable.delete(subscription.id);
    }
    if (maxBatchEvents <= 1 || this.unbatchable.has(subscription.id)) {
      return this.predict(subscription, [{ delivery, rows }]).then(p => p[0]);
    }
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(subscription.id);
      if (!batch) {
        const items: BatchItem[] = [];
        batch = items;
        this.batches.set(subscription.id, items);
        // After the I/O callbacks of this turn: the events stored in the
        // same write, or freed meanwhile, join this call.
        setImmediate(() => {
          if (this.batches.get(subscription.id) === items) {
            this.batches.delete(subscription.id);
          }
          void this.predictBatch(subscription, items);
        });
      }
      batch.push({ delivery, rows, resolve, reject });
      // Full: the next event starts another call.
      if (batch.length >= maxBatchEvents) this.batches.delete(subscription.id);
    });
  }

  /**
   * One call for `items`. When the model refuses it, or its answer does not
   * split into one prediction per row, each event is predicted alone, so
   * that only a bad event fails and every event gets its own predictions.
   */
  private async predictBatch(
    subscription: SubscriptionRecord,
    items: BatchItem[],
  ) {
    try {
      const predictions = await this.predict(subscription, items);
      items.forEach((item, i) => item.resolve(predictions[i]));
      return;
    } catch (error) {
      if (items.length === 1 || !(error instanceof DeliveryFailed)) {
        for (const item of items) item.reject(error);
        return;
      }
      if (error instanceof AnswerNotSplit) {
        this.unbatchable.set(subscription.id, this.now() + UNBATCHABLE_MS);
        this.options.logger.info(
          "predicting this subscription's events one by one: the model's answer to several did not have one prediction per row",
          { subscriptionId: subscription.id, modelRef: subscription.modelRef },
        );
      }
    }
    await Promise.all(
      items.map(async item => {
        try {
          item.resolve((await this.predict(subscription, [item]))[0]);
        } catch (error) {
          item.reject(error);
        }
      }),
    );
  }

  /**
   * Predicts the rows of one or more events in one model call; each
   * event's predictions, in order: for one event, the model's
   * `predictions` (or its whole answer); for several, each event's share
   * of the `predictions` array, one per row.
   */
  private async predict(
    subscription: SubscriptionRecord,
    items: ReadonlyArray<{
      delivery: DeliveryRecord;
      rows: Record<string, unknown>[];
    }>,
  ): Promise<unknown[]> {
    const { namespace, name } = parseEntityRef(subscription.modelRef);
    this.credentials ??= this.options.auth.getOwnServiceCredentials();
    const rows = items.flatMap(i => i.rows);
    const json = { dataframe_records: rows };
    const bytes = Buffer.from(JSON.stringify(json));
    const response = await this.options.gateway.predict(
      { namespace, name },
      async () => ({ bytes, json }),
      await this.credentials,
      {
        route: 'event',
        callerKind: 'event',
        source: {
          subscriptionId: subscription.id,
          eventId: items[0].delivery.eventKey,
          ...(items.length > 1 && {
            events: items.map(i => ({
              eventId: i.delivery.eventKey,
              rows: i.rows.length,
            })),
          }),
        },
      },
    );
    if (UNAVAILABLE.has(response.status)) {
      throw new ServiceUnavailableError(
        `the model answered ${response.status}: ${excerpt(response.body)}`,
      );
    }
    if (response.status !== 200) {
      throw new DeliveryFailed(
        `model error: the model answered ${response.status}: ${excerpt(
          response.body,
        )}`,
      );
    }
    let answer: { predictions?: unknown };
    try {
      answer = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new DeliveryFailed('model error: the answer is not JSON');
    }
    if (items.length === 1) return [answer.predictions ?? answer];
    const own = Array.isArray(answer.predictions)
      ? splitRows(
          answer.predictions,
          items.map(i => i.rows.length),
        )
      : undefined;
    if (!own) throw new AnswerNotSplit('the answer has no prediction per row');
    return own;
  }

  /** Publishes; the error (logged) when the events service refused it. */
  private async publish(
    topic: string,
    eventId: string,
    payload: object,
  ): Promise<string | undefined> {
    try {
      await this.options.events.publish({
        topic,
        eventPayload: payload,
        metadata: { 'x-event-id': eventId },
      });
      return undefined;
    } catch (error) {
      this.options.logger.warn('subscription event not published', {
        topic,
        error: String(error),
      });
      return String(error);
    }
  }
}
