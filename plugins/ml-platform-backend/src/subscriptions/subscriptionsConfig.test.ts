import { ConfigReader } from '@backstage/config';
import {
  MAX_BATCH_EVENTS,
  MAX_PREFETCH,
  readSubscriptionsConfig,
} from './subscriptionsConfig';

const prefetchOf = (subscriptions: object) =>
  readSubscriptionsConfig(new ConfigReader({ mlPlatform: { subscriptions } }))
    .prefetch;

describe('readSubscriptionsConfig', () => {
  it('queues 4 x concurrency events by default', () => {
    expect(prefetchOf({})).toBe(64);
    expect(prefetchOf({ concurrency: 2 })).toBe(8);
  });

  it('keeps prefetch a whole number between 0 and its cap', () => {
    expect(prefetchOf({ prefetch: -5 })).toBe(0);
    expect(prefetchOf({ prefetch: 2.7 })).toBe(2);
    expect(prefetchOf({ prefetch: 1e12 })).toBe(MAX_PREFETCH);
  });

  it('predicts up to 32 events per model call by default, between 1 and its cap', () => {
    const maxBatchEventsOf = (subscriptions: object) =>
      readSubscriptionsConfig(
        new ConfigReader({ mlPlatform: { subscriptions } }),
      ).maxBatchEvents;
    expect(maxBatchEventsOf({})).toBe(32);
    expect(maxBatchEventsOf({ maxBatchEvents: 0 })).toBe(1);
    expect(maxBatchEventsOf({ maxBatchEvents: 8.5 })).toBe(8);
    expect(maxBatchEventsOf({ maxBatchEvents: 1e9 })).toBe(MAX_BATCH_EVENTS);
  });
});
