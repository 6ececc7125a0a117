import { ConfigReader } from '@backstage/config';
import {
  MAX_BUFFERED_LINES,
  MIN_BUFFERED_LINES,
  readLogsConfig,
} from './logsConfig';

const bufferedOf = (logs: object) =>
  readLogsConfig(new ConfigReader({ mlPlatform: { logs } })).maxBuffered;

describe('readLogsConfig', () => {
  it('buffers 50,000 lines by default', () => {
    expect(bufferedOf({})).toBe(50_000);
    expect(bufferedOf({ maxBuffered: 2000 })).toBe(2000);
  });

  it('keeps maxBuffered a whole number within its bounds', () => {
    // 0 used to drop every line before it was stored.
    expect(bufferedOf({ maxBuffered: 0 })).toBe(MIN_BUFFERED_LINES);
    expect(bufferedOf({ maxBuffered: -5 })).toBe(MIN_BUFFERED_LINES);
    expect(bufferedOf({ maxBuffered: 1500.7 })).toBe(1500);
    expect(bufferedOf({ maxBuffered: 1e12 })).toBe(MAX_BUFFERED_LINES);
  });
});
