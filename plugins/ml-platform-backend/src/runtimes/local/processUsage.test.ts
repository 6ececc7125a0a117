import { parseProcStat, parseVmRss, readProcessUsage } from './processUsage';

describe('processUsage', () => {
  it('reads CPU ticks after the command name, and the resident memory', () => {
    // A command name with spaces and parentheses, as /proc allows.
    const stat =
      '4242 (python3 (x) y) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 3 0 99 123456789 2500 18446744073709551615';
    expect(parseProcStat(stat)).toBe(3);
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(
      parseVmRss('Name:\tpython3\nVmRSS:\t   20480 kB\nThreads:\t2\n'),
    ).toBe(20480 * 1024);
    expect(parseVmRss('Name:\tzombie\n')).toBeUndefined();
  });

  it('measures a live process (on Linux, where /proc is), and nothing for a gone one', async () => {
    const usage = await readProcessUsage(process.pid);
    const linux = process.platform === 'linux';
    expect(typeof usage?.cpuSeconds).toBe(linux ? 'number' : 'undefined');
    expect(usage?.memoryBytes ?? 20e6).toBeGreaterThan(10 * 1024 * 1024);
    expect(await readProcessUsage(2 ** 22 + 1)).toBeUndefined();
  });
});
