import { runProcess } from './runProcess';

describe('runProcess', () => {
  it('streams lines and reports the exit code', async () => {
    const lines: string[] = [];
    const result = await runProcess({
      command: 'sh',
      args: ['-c', 'echo one; echo two >&2; exit 3'],
      onLine: (line, stream) => lines.push(`${stream}:${line}`),
    });
    expect(result).toMatchObject({
      exitCode: 3,
      timedOut: false,
      aborted: false,
    });
    expect(lines.sort()).toEqual(['stderr:two', 'stdout:one']);
    expect(result.tail.sort()).toEqual(['one', 'two']);
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    const result = await runProcess({
      command: 'sh',
      args: ['-c', 'sleep 30 & wait'],
      timeoutMs: 200,
    });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await runProcess({
      command: 'sleep',
      args: ['30'],
      signal: controller.signal,
    });
    expect(result.aborted).toBe(true);
  });

  it('feeds input and rejects when the command does not exist', async () => {
    const lines: string[] = [];
    await runProcess({
      command: 'cat',
      args: [],
      input: 'hello\n',
      onLine: l => lines.push(l),
    });
    expect(lines).toEqual(['hello']);
    await expect(
      runProcess({ command: 'no-such-cmd-xyz', args: [] }),
    ).rejects.toThrow(/ENOENT/);
  });
});
