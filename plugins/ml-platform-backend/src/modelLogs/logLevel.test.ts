import { levelOf } from './logLevel';

describe('levelOf', () => {
  it.each([
    ['127.0.0.1 "POST /v2/models/churn/infer HTTP/1.1" 200 180', 'info'],
    ['ERROR:root:model failed to load', 'error'],
    ['Traceback (most recent call last):', 'error'],
    ['ValueError raised: Exception in predict', 'error'],
    ['WARNING: pip is out of date', 'warn'],
    ['DEPRECATED option', 'warn'],
    ['DEBUG loading weights', 'debug'],
    // The most severe word wins, wherever it is.
    ['DEBUG retry; WARN slow', 'warn'],
    ['DEBUG step 3 failed', 'error'],
    ['WARNING then ERROR', 'error'],
    // Whole words only, and case matters as loggers print them.
    ['no errors, nothing failedover', 'info'],
    ['debug output', 'info'],
  ])('%s is %s', (line, level) => {
    expect(levelOf(line)).toBe(level);
    // The pattern keeps no state between lines.
    expect(levelOf(line)).toBe(level);
  });
});
