import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithNginx as describeNginx } from '../../__testUtils__/nginx';
import { freePort } from '../../__testUtils__/prometheus';

jest.setTimeout(60_000);

const describeWithNginx = describeNginx();

/** Processes in process group `pgid` (from /proc). */
function groupMembers(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter(name => /^\d+$/.test(name))
    .filter(pid => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        // pid (comm) state ppid pgrp ...: comm may hold spaces.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
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
    const master = Number(run.stdout.trim());
    expect(master).toBeGreaterThan(1);
    try {
      // nginx's own process group: the master and its two workers, all gone.
      for (let i = 0; i < 50 && groupMembers(master).length > 0; i++) {
        await new Promise(r => setTimeout(r, 100));
      }
      expect(groupMembers(master)).toEqual([]);
    } finally {
      try {
        process.kill(-master, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
