import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** CPU time and resident memory of a process. */
export interface ProcessUsage {
  cpuSeconds: number;
  memoryBytes: number;
}

let units: { ticksPerSecond: number; pageBytes: number } | undefined;

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(
      execFileSync('getconf', [name], { encoding: 'utf8' }).trim(),
    );
    return value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** The kernel's clock tick and page size, asked once. */
function procUnits() {
  units ??= {
    ticksPerSecond: getconf('CLK_TCK', 100),
    pageBytes: getconf('PAGESIZE', 4096),
  };
  return units;
}

/**
 * Parses `/proc/<pid>/stat`: utime and stime (fields 14 and 15, in clock
 * ticks) and rss (field 24, in pages). The command name (field 2) may hold
 * spaces and parentheses, so fields are counted after its last `)`.
 */
export function parseProcStat(
  stat: string,
  ticksPerSecond: number,
  pageBytes: number,
): ProcessUsage | undefined {
  const end = stat.lastIndexOf(')');
  if (end < 0) return undefined;
  // After ")": field 3 (state) is index 0.
  const fields = stat
    .slice(end + 2)
    .trim()
    .split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const rss = Number(fields[24 - 3]);
  if (![utime, stime, rss].every(Number.isFinite)) return undefined;
  return {
    cpuSeconds: (utime + stime) / ticksPerSecond,
    memoryBytes: rss * pageBytes,
  };
}

/**
 * How much CPU and memory a local process uses, from Linux's /proc;
 * undefined where there is no /proc or the process is gone.
 */
export async function readProcessUsage(
  pid: number,
): Promise<ProcessUsage | undefined> {
  let stat: string;
  try {
    stat = await fs.promises.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const { ticksPerSecond, pageBytes } = procUnits();
  return parseProcStat(stat, ticksPerSecond, pageBytes);
}
