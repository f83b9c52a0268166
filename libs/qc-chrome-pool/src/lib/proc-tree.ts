import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

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
const PROC_READS_AT_ONCE = 16;
export const CLOCK_TICKS_PER_SEC = 100;

/** Reads one /proc/<pid> entry; undefined when the process is gone. */
export function readProc(pid: number, procRoot = '/proc'): ProcInfo | undefined {
  try {
    return procInfo(pid, readFileSync(`${procRoot}/${pid}/stat`, 'utf8'), readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8'));
  } catch {
    return undefined; // exited between readdir and read: not an error
  }
}

/** {@link readProc} off the event loop (the reads go to libuv's thread pool). */
export async function readProcAsync(pid: number, procRoot = '/proc'): Promise<ProcInfo | undefined> {
  try {
    return procInfo(pid, await readFile(`${procRoot}/${pid}/stat`, 'utf8'), await readFile(`${procRoot}/${pid}/cmdline`, 'utf8'));
  } catch {
    return undefined; // exited between readdir and read: not an error
  }
}

function procInfo(pid: number, stat: string, cmdline: string): ProcInfo {
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const num = (i: number) => Number(fields[i - 3]);
  return {
    pid,
    ppid: num(4),
    pgid: num(5),
    state: fields[0],
    cpuTicks: num(14) + num(15) + num(16) + num(17),
    reapedChildTicks: num(16) + num(17),
    rssBytes: num(24) * PAGE_SIZE,
    // Chrome's children rewrite their title into one space-separated string: split on both.
    cmdline: cmdline.split(/[\0 ]/).filter(Boolean),
  };
}

/** The process ids among /proc's entries (the others are `self`, `uptime`, ...). */
const pidsAmong = (names: string[]): number[] => names.filter((name) => /^\d+$/.test(name)).map(Number);

/** Every process currently visible in /proc. */
export function listProcs(procRoot = '/proc'): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of pidsAmong(readdirSync(procRoot))) {
    const info = readProc(pid, procRoot);
    if (info) out.push(info);
  }
  return out;
}

/**
 * {@link listProcs} off the event loop: a process that serves requests while it walks /proc (a
 * pool released after a hot handoff's switch) reads a few hundred files without holding its loop
 * (synchronously that was 4-9 ms at the switch: tools/bench/README.md, cause 15).
 */
export async function listProcsAsync(procRoot = '/proc'): Promise<ProcInfo[]> {
  const pids = pidsAmong(await readdir(procRoot));
  const out: ProcInfo[] = [];
  // A few at a time: each read holds a file descriptor, and a unit's LimitNOFILE counts them.
  for (let i = 0; i < pids.length; i += PROC_READS_AT_ONCE) {
    const infos = await Promise.all(pids.slice(i, i + PROC_READS_AT_ONCE).map((pid) => readProcAsync(pid, procRoot)));
    for (const info of infos) if (info) out.push(info);
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

/** The state letter of a process from /proc/<pid>/stat (R, S, D, T, Z, ...); undefined when it is gone. */
export function readState(pid: number, procRoot = '/proc'): string | undefined {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}

/** Whether a process in this state (from {@link readState}; undefined: gone) has not finished its exit. */
export const aliveState = (state: string | undefined): boolean => state !== undefined && state !== 'Z' && state !== 'X';

/** True when a process with that pid exists (zombies count as gone). */
export function isAlive(pid: number, procRoot = '/proc'): boolean {
  return aliveState(readState(pid, procRoot));
}
