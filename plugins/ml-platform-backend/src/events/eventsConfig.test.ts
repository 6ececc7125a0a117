import { ConfigReader } from '@backstage/config';
import { MAX_FLUSH_SIZE, readEventsConfig } from './eventsConfig';

const eventsConfigOf = (events: object) =>
  readEventsConfig(new ConfigReader({ mlPlatform: { events } }));
const flushSizeOf = (events: object) => eventsConfigOf(events).flushSize;

describe('readEventsConfig', () => {
  it('writes 500 events at once by default', () => {
    expect(flushSizeOf({})).toBe(500);
    expect(flushSizeOf({ flushSize: 50 })).toBe(50);
  });

  it('keeps flushSize a whole number between 1 and its cap', () => {
    expect(flushSizeOf({ flushSize: 0 })).toBe(1);
    expect(flushSizeOf({ flushSize: -3 })).toBe(1);
    expect(flushSizeOf({ flushSize: 2.7 })).toBe(2);
    expect(flushSizeOf({ flushSize: 1e12 })).toBe(MAX_FLUSH_SIZE);
  });

  it('keeps publishBatchSize a whole number between 1 and the same cap', () => {
    const sizeOf = (events: object) => eventsConfigOf(events).publishBatchSize;
    expect(sizeOf({})).toBe(100);
    expect(sizeOf({ publishBatchSize: 0 })).toBe(1);
    expect(sizeOf({ publishBatchSize: 2.5 })).toBe(2);
    expect(sizeOf({ publishBatchSize: 1e12 })).toBe(MAX_FLUSH_SIZE);
  });
});
