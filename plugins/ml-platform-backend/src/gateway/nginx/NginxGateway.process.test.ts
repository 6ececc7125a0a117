import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithNginx as describeNginx } from '../../__testUtils__/nginx';
import { freePort } from '../../__testUtils__/prometheus';

jest.setTimeout(60_000);

const describeWithNginx = describeNginx();

/** Whether `pid` is a process still running (not gone, not a zombie). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ...: comm may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describeWithNginx('the native data plane and its backend process', () => {
  it('goes with a backend that exits without stopping it, workers and all', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-nginx-exit-'));
    const run = spawnSync(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        path.join(__dirname, '__fixtures__', 'exitWithoutStop.ts'),
        dataDir,
        String(await freePort()),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect([run.status, run.stderr]).toEqual([1, '']);
    const { master, workers } = JSON.parse(run.stdout) as {
      master: number;
      workers: number[];
    };
    const pids = [master, ...workers];
    try {
      expect(workers).toHaveLength(2);
      for (let i = 0; i < 50 && pids.some(running); i++) {
        await new Promise(r => setTimeout(r, 100));
      }
      // The master and both workers (which a killed master would leave).
      expect(pids.filter(running)).toEqual([]);
    } finally {
      for (const pid of pids.filter(running)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
