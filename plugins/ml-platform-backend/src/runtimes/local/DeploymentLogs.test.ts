import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_PAGE,
  DeploymentLogs,
  MAX_READ_LINES,
  deploymentLogFile,
} from './DeploymentLogs';

describe('DeploymentLogs', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-logs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const texts = (lines: { line: string }[]) => lines.map(l => l.line);

  it('keeps the deployment id inside the log directory', () => {
    expect(deploymentLogFile('/logs', '../../etc/passwd')).toBe(
      path.join('/logs', '..%2F..%2Fetc%2Fpasswd.log'),
    );
    expect(deploymentLogFile('/logs', 'dep-1')).toBe('/logs/dep-1.log');
  });

  it('writes JSON lines and continues seq after a reopen', async () => {
    const file = path.join(dir, 'nested', 'd1.log');
    const logs = await DeploymentLogs.open(file);
    logs.append('runtime', 'one');
    logs.append('stderr', 'two', 'r1');
    await logs.flush();
    const stored = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    expect(stored).toEqual([
      { seq: 1, time: expect.any(String), stream: 'runtime', line: 'one' },
      {
        seq: 2,
        time: expect.any(String),
        replica: 'r1',
        stream: 'stderr',
        line: 'two',
      },
    ]);

    const again = await DeploymentLogs.open(file);
    expect(again.lastSeq).toBe(2);
    expect(again.append('runtime', 'three').seq).toBe(3);
    expect(texts(await again.read({ tail: 10 }))).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(texts(await again.read({ afterSeq: 1 }))).toEqual(['two', 'three']);
  });

  it('skips a line torn by a crash and starts the next write on a new line', async () => {
    const file = path.join(dir, 'd.log');
    fs.writeFileSync(
      file,
      `${JSON.stringify({
        seq: 7,
        time: 't',
        stream: 'runtime',
        line: 'ok',
      })}\n{"seq":8,"ti`,
    );
    const logs = await DeploymentLogs.open(file);
    expect(logs.lastSeq).toBe(7);
    logs.append('runtime', 'after');
    await logs.flush();
    const reopened = await DeploymentLogs.open(file);
    expect(reopened.lastSeq).toBe(8);
    const lines = await reopened.read({ tail: 10 });
    expect(lines.map(l => [l.seq, l.line])).toEqual([
      [7, 'ok'],
      [8, 'after'],
    ]);
  });

  it('reads tails and pages from the file when memory does not hold them', async () => {
    const file = path.join(dir, 'd.log');
    const writer = await DeploymentLogs.open(file, { memoryLines: 10 });
    for (let i = 1; i <= 500; i++)
      writer.append('stderr', `line ${i} ${'x'.repeat(200)}`);
    await writer.flush();

    const reader = await DeploymentLogs.open(file, { memoryLines: 10 });
    const tail = await reader.read({ tail: 300 });
    expect(tail.map(l => l.seq)).toEqual(
      Array.from({ length: 300 }, (_, i) => 201 + i),
    );
    const page = await reader.read({ afterSeq: 100, tail: 5 });
    expect(page.map(l => l.seq)).toEqual([101, 102, 103, 104, 105]);
    expect(await reader.read({ afterSeq: 500 })).toEqual([]);
    expect((await reader.read()).length).toBe(100);
  });

  it('bounds every read', async () => {
    const logs = await DeploymentLogs.open(path.join(dir, 'd.log'), {
      memoryLines: 10,
    });
    for (let i = 0; i < MAX_READ_LINES + 50; i++) logs.append('stderr', 'x');
    expect(await logs.read({ tail: 1e9 })).toHaveLength(MAX_READ_LINES);
    const page = await logs.read({ afterSeq: 0, tail: 1e9 });
    expect(page).toHaveLength(MAX_READ_LINES);
    expect(page[0].seq).toBe(1);
    expect(await logs.read({ afterSeq: 0 })).toHaveLength(DEFAULT_PAGE);
    expect(await logs.read({ tail: 0 })).toEqual([]);
  });

  it('serves recent lines from memory, bounded by memoryLines', async () => {
    const file = path.join(dir, 'd.log');
    const logs = await DeploymentLogs.open(file, { memoryLines: 5 });
    for (let i = 1; i <= 30; i++) logs.append('runtime', `l${i}`);
    // Not flushed yet: only memory can answer these.
    expect(texts(await logs.read({ tail: 3 }))).toEqual(['l28', 'l29', 'l30']);
    expect(texts(await logs.read({ afterSeq: 27 }))).toEqual([
      'l28',
      'l29',
      'l30',
    ]);
    // Older than memory: the file (after a flush) answers.
    expect(texts(await logs.read({ afterSeq: 2, tail: 2 }))).toEqual([
      'l3',
      'l4',
    ]);
    expect((await logs.read({ tail: 30 })).map(l => l.seq)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });

  it('rotates to one previous file and still reads across it', async () => {
    const file = path.join(dir, 'd.log');
    const logs = await DeploymentLogs.open(file, {
      memoryLines: 2,
      maxFileBytes: 4096,
    });
    for (let i = 1; i <= 60; i++) {
      logs.append('stderr', `${i} ${'y'.repeat(100)}`);
      await logs.flush();
    }
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(4096);
    const firstInCurrent = JSON.parse(
      fs.readFileSync(file, 'utf8').split('\n')[0],
    ).seq;
    expect(firstInCurrent).toBeGreaterThan(1);

    const reader = await DeploymentLogs.open(file, { memoryLines: 2 });
    expect(reader.lastSeq).toBe(60);
    const span = await reader.read({ afterSeq: firstInCurrent - 3, tail: 4 });
    expect(span.map(l => l.seq)).toEqual([
      firstInCurrent - 2,
      firstInCurrent - 1,
      firstInCurrent,
      firstInCurrent + 1,
    ]);
    const tail = await reader.read({ tail: 60 - firstInCurrent + 3 });
    expect(tail[0].seq).toBe(firstInCurrent - 2);
    expect(tail.at(-1)!.seq).toBe(60);
  });

  it('calls onLine for every appended line', async () => {
    const seen: number[] = [];
    const logs = await DeploymentLogs.open(path.join(dir, 'd.log'), {
      onLine: line => seen.push(line.seq),
    });
    logs.append('runtime', 'a');
    logs.append('runtime', 'b');
    expect(seen).toEqual([1, 2]);
  });
});
