import fs from 'node:fs';

/** CPU time and resident memory of a process. */
export interface ProcessUsage {
  cpuSeconds: number;
  memoryBytes: number;
}

/**
 * Clock ticks per second of /proc's times: USER_HZ, fixed at 100 in the
 * kernel's ABI whatever the kernel's own tick rate.
 */
const USER_HZ = 100;

/**
 * CPU seconds from `/proc/<pid>/stat`: utime and stime (fields 14 and 15).
 * The command name (field 2) may hold spaces and parentheses, so fields are
 * counted after its last `)`.
 */
export function parseProcStat(stat: string): number | undefined {
  const end = stat.lastIndexOf(')');
  if (end < 0) return undefined;
  // After ")": field 3 (state) is index 0.
  const fields = stat
    .slice(end + 2)
    .trim()
    .split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / USER_HZ;
}

/** Resident memory from `/proc/<pid>/status` (`VmRSS: 1234 kB`). */
export function parseVmRss(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * How much CPU and memory a local process uses, from Linux's /proc;
 * undefined where there is no /proc or the process is gone.
 */
export async function readProcessUsage(
  pid: number,
): Promise<ProcessUsage | undefined> {
  try {
    const [stat, status] = await Promise.all([
      fs.promises.readFile(`/proc/${pid}/stat`, 'utf8'),
      fs.promises.readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    const cpuSeconds = parseProcStat(stat);
    const memoryBytes = parseVmRss(status);
    return cpuSeconds === undefined || memoryBytes === undefined
      ? undefined
      : { cpuSeconds, memoryBytes };
  } catch {
    return undefined;
  }
}
