import { parseProcStat, readProcessUsage } from './processUsage';

describe('processUsage', () => {
  it('reads CPU ticks and resident pages after the command name', () => {
    // A command name with spaces and parentheses, as /proc allows.
    const stat =
      '4242 (python3 (x) y) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 3 0 99 123456789 2500 18446744073709551615';
    expect(parseProcStat(stat, 100, 4096)).toEqual({
      cpuSeconds: 3,
      memoryBytes: 2500 * 4096,
    });
    expect(parseProcStat('garbage', 100, 4096)).toBeUndefined();
  });

  it('measures a live process (on Linux, where /proc is), and nothing for a gone one', async () => {
    const usage = await readProcessUsage(process.pid);
    const linux = process.platform === 'linux';
    expect(typeof usage?.cpuSeconds).toBe(linux ? 'number' : 'undefined');
    expect(usage?.memoryBytes ?? 20e6).toBeGreaterThan(10 * 1024 * 1024);
    expect(await readProcessUsage(2 ** 22 + 1)).toBeUndefined();
  });
});
