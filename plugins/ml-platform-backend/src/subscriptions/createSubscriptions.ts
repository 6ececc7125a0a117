import {
  AuthService,
  LifecycleService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { EventsService } from '@backstage/plugin-events-node';
import { ModelDeployment } from '@internal/plugin-ml-platform-common';
import { Knex } from 'knex';
import { Registry } from 'prom-client';
import { DatabaseSubscriptionStore } from '../database/subscriptions/DatabaseSubscriptionStore';
import { Gateway } from '../gateway/Gateway';
import { ModelCatalog } from '../services/ModelCatalog';
import { SubscriptionDispatcher } from './SubscriptionDispatcher';
import { SubscriptionService } from './SubscriptionService';
import { subscriptionMetrics } from './subscriptionMetrics';
import { readSubscriptionsConfig } from './subscriptionsConfig';

/** Subscriptions, wired: the routes' service and the metrics. */
export interface Subscriptions {
  service: SubscriptionService;
  dispatcher: SubscriptionDispatcher;
  metrics: Registry;
}

/**
 * Event subscriptions (real-time triggers): the dispatcher listening on the
 * subscribed topics from the backend's start, its poll, and the retention
 * of idempotency keys.
 */
export async function createSubscriptions(options: {
  config: Config;
  logger: LoggerService;
  db: Knex;
  auth: AuthService;
  events: EventsService;
  scheduler: SchedulerService;
  lifecycle: LifecycleService;
  gateway: Gateway;
  models: ModelCatalog;
  getDeployment(id: string): Promise<ModelDeployment | undefined>;
}): Promise<Subscriptions> {
  const settings = readSubscriptionsConfig(options.config);
  const store = new DatabaseSubscriptionStore(options.db);
  const dispatcher = new SubscriptionDispatcher({
    store,
    events: options.events,
    gateway: options.gateway,
    auth: options.auth,
    logger: options.logger.child({ subsystem: 'subscriptions' }),
    settings,
  });
  const service = new SubscriptionService({
    store,
    models: options.models,
    getDeployment: options.getDeployment,
    onChange: () => dispatcher.refresh(),
  });
  // Subscribed before the backend serves: no event on a topic is missed.
  await dispatcher.refresh();
  options.lifecycle.addStartupHook(() => dispatcher.start());
  options.lifecycle.addShutdownHook(() => dispatcher.stop());
  await options.scheduler.scheduleTask({
    id: 'ml-platform-subscription-keys-retention',
    frequency: { hours: 1 },
    timeout: { minutes: 10 },
    initialDelay: { minutes: 1 },
    fn: async () => {
      await store.deleteFinishedBefore(Date.now() - settings.keyRetentionMs);
    },
  });
  return { service, dispatcher, metrics: subscriptionMetrics(store) };
}
