import { ConfigReader } from '@backstage/config';
import { MAX_PREFETCH, readSubscriptionsConfig } from './subscriptionsConfig';

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
});
