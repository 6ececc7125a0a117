// CPU time of processes, from Linux's /proc, to report what a component
// spends per request next to its peer.
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function stat(pid, file = `/proc/${pid}/stat`) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it. */
export function processTree(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(entry));
    children.set(s.ppid, list);
  }
  const tree = [];
  const visit = p => {
    tree.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return tree;
}

/** The process of `tree` whose command line matches `pattern`. */
export function findProcess(rootPid, pattern) {
  return processTree(rootPid).find(pid => {
    try {
      return pattern.test(
        fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '),
      );
    } catch {
      return false;
    }
  });
}

/** The nginx processes of `tree` (a master and its workers). */
export function nginxProcesses(rootPid) {
  return processTree(rootPid).filter(pid => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nginx';
    } catch {
      return false;
    }
  });
}

/** CPU seconds (user + system) used so far by the processes. */
export function cpuSeconds(pids) {
  return (
    pids.reduce((sum, pid) => sum + (stat(pid)?.ticks ?? 0), 0) /
    TICKS_PER_SECOND
  );
}

/**
 * CPU seconds used so far by the process's main thread only (for Node, the
 * event loop and JavaScript); the rest of the process's CPU is its helper
 * threads: libuv's pool (fs, zlib, DNS) and V8's (concurrent GC, compiling).
 */
export function mainThreadCpuSeconds(pid) {
  return (
    (stat(pid, `/proc/${pid}/task/${pid}/stat`)?.ticks ?? 0) / TICKS_PER_SECOND
  );
}
