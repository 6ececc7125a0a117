import { Config } from '@backstage/config';
import { durationMs } from '../platformConfig';
import { DispatcherSettings } from './SubscriptionDispatcher';

/** `mlPlatform.subscriptions`, with defaults applied. */
export interface SubscriptionsConfig extends DispatcherSettings {
  /** Keys of finished deliveries are kept this long (redeliveries within it are ignored). */
  keyRetentionMs: number;
}

export function readSubscriptionsConfig(config: Config): SubscriptionsConfig {
  const s = config.getOptionalConfig('mlPlatform.subscriptions');
  const concurrency = s?.getOptionalNumber('concurrency') ?? 16;
  return {
    maxAttempts: s?.getOptionalNumber('maxAttempts') ?? 5,
    retryBackoffMs: durationMs(s, 'retryBackoff', 500),
    pollIntervalMs: durationMs(s, 'pollInterval', 1000),
    leaseMs: durationMs(s, 'lease', 60_000),
    concurrency,
    prefetch: Math.max(0, s?.getOptionalNumber('prefetch') ?? 4 * concurrency),
    refreshIntervalMs: durationMs(s, 'refreshInterval', 5000),
    keyRetentionMs: durationMs(s, 'keyRetention', 7 * 86_400_000),
  };
}
