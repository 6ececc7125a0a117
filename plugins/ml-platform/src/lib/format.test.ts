import {
  buildDurationMs,
  buildLabel,
  errorMessageOf,
  formatBytes,
  formatDuration,
  formatLatency,
  formatPerSecond,
  formatRate,
  formatRatio,
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

  it('formats monitoring values, and a dash for nothing measured', () => {
    expect(formatRatio(0.125)).toBe('12.5%');
    expect(formatRatio(0.00042)).toBe('0.04%');
    expect(formatRatio(null)).toBe('—');
    expect(formatLatency(0.00042)).toBe('0.4 ms');
    expect(formatLatency(0.042)).toBe('42 ms');
    expect(formatLatency(1.26)).toBe('1.3 s');
    expect(formatLatency(null)).toBe('—');
    expect(formatPerSecond(12.46)).toBe('12.5/s');
    expect(formatPerSecond(0.0166)).toBe('0.017/s');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
    expect(formatBytes(1.25 * 1024 ** 3)).toBe('1.3 GiB');
  });
});
