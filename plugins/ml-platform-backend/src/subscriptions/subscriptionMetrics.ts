import { parseEntityRef } from '@backstage/catalog-model';
import { Counter, Gauge, Registry } from 'prom-client';
import { SubscriptionStore } from '../database/subscriptions/SubscriptionStore';

/** Metric names of subscriptions, next to the platform's others. */
export const SUBSCRIPTION_METRICS = {
  /** Counter: events of a subscription by `outcome` (received, filtered, predicted, failed). */
  events: 'ml_platform_subscription_events_total',
  /** Gauge: seconds the oldest undelivered event of a subscription has waited. */
  lag: 'ml_platform_subscription_lag_seconds',
} as const;

const LABELS = ['namespace', 'model', 'subscription', 'topic'] as const;

/**
 * The subscriptions' counters as Prometheus metrics, read from the
 * database at scrape time: every instance exposes the same totals, which
 * every instance adds to.
 */
export function subscriptionMetrics(store: SubscriptionStore): Registry {
  const registry = new Registry();
  // One read of the database per scrape, shared by both metrics.
  let snapshot: { at: number; read: Promise<Snapshot> } | undefined;
  const read = () => {
    const now = Date.now();
    if (!snapshot || now - snapshot.at > 1000) {
      snapshot = { at: now, read: readSnapshot(store, now) };
      snapshot.read.catch(() => {
        snapshot = undefined;
      });
    }
    return snapshot.read;
  };
  registry.registerMetric(
    new Counter({
      name: SUBSCRIPTION_METRICS.events,
      help: 'Events of each subscription, by outcome (received, filtered, predicted, failed)',
      labelNames: [...LABELS, 'outcome'],
      registers: [],
      async collect() {
        this.reset();
        for (const { labels, counters } of await read()) {
          for (const [outcome, value] of Object.entries(counters)) {
            this.inc({ ...labels, outcome }, value);
          }
        }
      },
    }),
  );
  registry.registerMetric(
    new Gauge({
      name: SUBSCRIPTION_METRICS.lag,
      help: 'Seconds the oldest event a subscription has not delivered yet has waited',
      labelNames: LABELS,
      registers: [],
      async collect() {
        this.reset();
        for (const { labels, lagSeconds } of await read()) {
          this.set(labels, lagSeconds);
        }
      },
    }),
  );
  return registry;
}

type Snapshot = {
  labels: Record<(typeof LABELS)[number], string>;
  counters: Record<'received' | 'filtered' | 'predicted' | 'failed', number>;
  lagSeconds: number;
}[];

async function readSnapshot(
  store: SubscriptionStore,
  now: number,
): Promise<Snapshot> {
  const all = await store.listSubscriptions();
  const oldest = await store.oldestPending(all.map(s => s.id));
  return all.map(s => {
    const { namespace, name } = parseEntityRef(s.modelRef);
    const since = oldest.get(s.id);
    return {
      labels: { namespace, model: name, subscription: s.id, topic: s.topic },
      counters: {
        received: s.received,
        filtered: s.filtered,
        predicted: s.predicted,
        failed: s.failed,
      },
      lagSeconds: since === undefined ? 0 : (now - since) / 1000,
    };
  });
}
