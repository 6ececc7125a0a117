import { AuthService } from '@backstage/backend-plugin-api';
import { EventsService } from '@backstage/plugin-events-node';
import { Registry } from 'prom-client';
import { Gateway } from '../gateway/Gateway';
import { PlatformCore } from '../subsystems/core';
import { Subsystem } from '../subsystems/types';
import { subscriptionRoutes } from './routes';
import { SubscriptionDispatcher } from './SubscriptionDispatcher';
import { SubscriptionService } from './SubscriptionService';
import { subscriptionMetrics } from './subscriptionMetrics';
import { readSubscriptionsConfig } from './subscriptionsConfig';

/** Subscriptions, as the plugin composes them. */
export interface SubscriptionsSubsystem extends Subsystem {
  /** The counters and lag, for `GET metrics`. */
  metrics: Registry;
}

/**
 * Event subscriptions (real-time triggers): the dispatcher listening on
 * the subscribed topics (subscribed before the backend serves, so no event
 * is missed), its poll for retries and a restart's leftovers, the
 * retention of idempotency keys, and the routes.
 */
export async function createSubscriptionsSubsystem(
  core: PlatformCore,
  deps: { events: EventsService; auth: AuthService; gateway: Gateway },
): Promise<SubscriptionsSubsystem> {
  const { config, logger, stores, models } = core;
  const settings = readSubscriptionsConfig(config);
  const dispatcher = new SubscriptionDispatcher({
    store: stores.subscriptions,
    events: deps.events,
    gateway: deps.gateway,
    auth: deps.auth,
    logger: logger.child({ subsystem: 'subscriptions' }),
    settings,
  });
  const service = new SubscriptionService({
    store: stores.subscriptions,
    models,
    getDeployment: id => stores.deployments.getDeployment(id),
    onChange: () => dispatcher.refresh(),
  });
  await dispatcher.refresh();
  return {
    name: 'subscriptions',
    metrics: subscriptionMetrics(stores.subscriptions),
    routes: (api, ctx) =>
      subscriptionRoutes(api, ctx, { subscriptions: service }),
    tasks: [
      {
        id: 'ml-platform-subscription-keys-retention',
        frequency: { hours: 1 },
        timeout: { minutes: 10 },
        initialDelay: { minutes: 1 },
        fn: async () => {
          await stores.subscriptions.deleteFinishedBefore(
            Date.now() - settings.keyRetentionMs,
          );
        },
      },
    ],
    onStartup: [() => dispatcher.start()],
    onShutdown: [() => dispatcher.stop()],
  };
}
