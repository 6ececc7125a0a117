import {
  buildDurationMs,
  buildLabel,
  errorMessageOf,
  formatDuration,
  formatRate,
} from './format';

describe('format', () => {
  it.each([
    [850, '850 ms'],
    [4200, '4.2 s'],
    [42_000, '42 s'],
    [185_000, '3m 05s'],
    [7_620_000, '2h 07m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('measures running builds until now', () => {
    expect(
      buildDurationMs(
        { startedAt: '2026-01-01T00:00:00Z' },
        Date.parse('2026-01-01T00:00:10Z'),
      ),
    ).toBe(10_000);
    expect(buildDurationMs({})).toBeUndefined();
  });

  it('formats rates', () => {
    expect(formatRate(1234.56)).toBe('1,234.6 rows/s');
  });

  it('labels builds by version, or by id when unknown', () => {
    const builds = [{ id: 'b-1', version: 4 }];
    expect(buildLabel('b-1', builds)).toBe('v4');
    expect(buildLabel('0123456789abcdef', builds)).toBe('build 01234567');
  });

  it('finds the message of error bodies', () => {
    expect(errorMessageOf({ error: { name: 'X', message: 'bad row' } })).toBe(
      'bad row',
    );
    expect(errorMessageOf({ message: 'timeout' })).toBe('timeout');
    expect(errorMessageOf('upstream down')).toBe('upstream down');
    expect(errorMessageOf({ predictions: [] })).toBeUndefined();
  });
});
