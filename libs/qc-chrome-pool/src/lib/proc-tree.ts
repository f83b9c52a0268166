import { readdirSync, readFileSync } from 'node:fs';

/** One process as seen in /proc (Linux only). */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Process state letter from /proc/<pid>/stat (R, S, D, Z, ...). */
  state: string;
  /** utime+stime+cutime+cstime in clock ticks (USER_HZ, 100/s on Linux). */
  cpuTicks: number;
  /** cutime+cstime: CPU of children this process has already reaped. */
  reapedChildTicks: number;
  rssBytes: number;
  cmdline: string[];
}

const PAGE_SIZE = 4096;
export const CLOCK_TICKS_PER_SEC = 100;

/** Reads one /proc/<pid> entry; undefined when the process is gone. */
export function readProc(pid: number, procRoot = '/proc'): ProcInfo | undefined {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const num = (i: number) => Number(fields[i - 3]);
    // Chrome's children rewrite their title into one space-separated string: split on both.
    const cmdline = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split(/[\0 ]/).filter(Boolean);
    return {
      pid,
      ppid: num(4),
      pgid: num(5),
      state: fields[0],
      cpuTicks: num(14) + num(15) + num(16) + num(17),
      reapedChildTicks: num(16) + num(17),
      rssBytes: num(24) * PAGE_SIZE,
      cmdline,
    };
  } catch {
    return undefined; // exited between readdir and read: not an error
  }
}

/** Every process currently visible in /proc. */
export function listProcs(procRoot = '/proc'): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProc(Number(name), procRoot);
    if (info) out.push(info);
  }
  return out;
}

/** Processes that descend from `rootPid` (excluding the root itself). */
export function descendantsOf(rootPid: number, procs = listProcs()): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const stack = [rootPid];
  while (stack.length) {
    for (const child of children.get(stack.pop() as number) ?? []) {
      out.push(child);
      stack.push(child.pid);
    }
  }
  return out;
}

/** Processes whose command line uses the given Chrome profile directory, or whose group is `pgid`. */
export function chromeProcsOf(profileDir: string, pgid?: number, procs = listProcs()): ProcInfo[] {
  const flag = `--user-data-dir=${profileDir}`;
  const live = procs.filter((p) => p.state !== 'Z' && p.state !== 'X');
  return live.filter(
    (p) => p.cmdline.includes(flag) || (pgid !== undefined && p.pgid === pgid && p.pid !== process.pid),
  );
}

/** True when a process with that pid exists (zombies count as gone). */
export function isAlive(pid: number, procRoot = '/proc'): boolean {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
