import { Config } from '@backstage/config';
import { boundedWholeNumber, durationMs } from '../platformConfig';
import { DispatcherSettings } from './SubscriptionDispatcher';

/** `mlPlatform.subscriptions`, with defaults applied. */
export interface SubscriptionsConfig extends DispatcherSettings {
  /** Keys of finished deliveries are kept this long (redeliveries within it are ignored). */
  keyRetentionMs: number;
}

/**
 * Most events an instance queues in memory: each holds its payload, so an
 * unbounded setting would let a burst grow the backend's heap without end.
 */
export const MAX_PREFETCH = 10_000;

/** Most events in one model call: their rows make one request body. */
export const MAX_BATCH_EVENTS = 1000;

export function readSubscriptionsConfig(config: Config): SubscriptionsConfig {
  const s = config.getOptionalConfig('mlPlatform.subscriptions');
  const concurrency = s?.getOptionalNumber('concurrency') ?? 16;
  return {
    maxAttempts: s?.getOptionalNumber('maxAttempts') ?? 5,
    retryBackoffMs: durationMs(s, 'retryBackoff', 500),
    pollIntervalMs: durationMs(s, 'pollInterval', 1000),
    leaseMs: durationMs(s, 'lease', 60_000),
    concurrency,
    prefetch: boundedWholeNumber(
      s,
      'prefetch',
      4 * concurrency,
      0,
      MAX_PREFETCH,
    ),
    refreshIntervalMs: durationMs(s, 'refreshInterval', 5000),
    maxBatchEvents: boundedWholeNumber(
      s,
      'maxBatchEvents',
      32,
      1,
      MAX_BATCH_EVENTS,
    ),
    keyRetentionMs: durationMs(s, 'keyRetention', 7 * 86_400_000),
  };
}
