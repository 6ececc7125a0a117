import { ConfigReader } from '@backstage/config';
import {
  EventsConfig,
  MAX_BUFFERED,
  MAX_FLUSH_SIZE,
  MAX_PAYLOAD_BYTES,
  readEventsConfig,
} from './eventsConfig';

const eventsConfigOf = (events: object) =>
  readEventsConfig(new ConfigReader({ mlPlatform: { events } }));
/** One setting as read from an `mlPlatform.events` block. */
const setting =
  <K extends keyof EventsConfig>(key: K) =>
  (events: object) =>
    eventsConfigOf(events)[key];
const flushSizeOf = setting('flushSize');

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
    const sizeOf = setting('publishBatchSize');
    expect(sizeOf({})).toBe(100);
    expect(sizeOf({ publishBatchSize: 0 })).toBe(1);
    expect(sizeOf({ publishBatchSize: 2.5 })).toBe(2);
    expect(sizeOf({ publishBatchSize: 1e12 })).toBe(MAX_FLUSH_SIZE);
  });

  it('buffers at least one write of events, and at most its cap', () => {
    const bufferedOf = setting('maxBuffered');
    expect(bufferedOf({})).toBe(20_000);
    // 0 used to drop every event before it was stored or published.
    expect(bufferedOf({ maxBuffered: 0 })).toBe(500);
    expect(bufferedOf({ maxBuffered: -1, flushSize: 50 })).toBe(50);
    expect(bufferedOf({ maxBuffered: 1234.9 })).toBe(1234);
    expect(bufferedOf({ maxBuffered: 1e12 })).toBe(MAX_BUFFERED);
  });

  it('keeps maxPayloadBytes a whole number of bytes, 0 keeping no bodies', () => {
    const bytesOf = setting('maxPayloadBytes');
    expect(bytesOf({})).toBe(65_536);
    expect(bytesOf({ maxPayloadBytes: 0 })).toBe(0);
    expect(bytesOf({ maxPayloadBytes: -10 })).toBe(0);
    expect(bytesOf({ maxPayloadBytes: 100.5 })).toBe(100);
    expect(bytesOf({ maxPayloadBytes: 1e15 })).toBe(MAX_PAYLOAD_BYTES);
  });
});
