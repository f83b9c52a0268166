import { constants } from 'node:os';
import type { ProcessEnvironment } from './process-environment';

// Reading /proc/<pid>/stat: what the handoff needs to know of a process, and
// what counts as gone.

/** The fields of /proc/<pid>/stat the handoff needs. */
export interface ProcStat {
  pid: number;
  /** The command name (field 2, at most 15 bytes): the file name of the last exec. */
  comm: string;
  ppid: number;
  pgid: number;
  /** State letter: R, S, D, T, Z, ... */
  state: string;
  /** Start time since boot in clock ticks: with the pid, identifies a process across pid reuse. */
  startTime: number;
  /** The kernel's PF_* flags word (field 9). */
  flags: number;
  /** A zombie's exit status as waitpid(2) reports it (field 52, Linux 3.5+); 0 for a live process. */
  exitCode: number | undefined;
  /** The main thread's scheduling policy (field 41: 0 SCHED_OTHER, 5 SCHED_IDLE, ...); undefined when not shown. */
  policy: number | undefined;
}

/** PF_EXITING: set at the very start of the kernel's exit path, before the process closes its files. */
const PF_EXITING = 0x4;

/**
 * Whether the process is gone or on its way out: no entry, a zombie (exited, not
 * reaped), or exiting. A dying process has PF_EXITING set before its files close,
 * so whoever sees its sockets close already sees it as gone.
 */
export function isGone(stat: ProcStat | undefined, startTime?: number): boolean {
  if (stat === undefined) return true;
  if (startTime !== undefined && stat.startTime !== startTime) return true; // the pid was reused
  return stat.state === 'Z' || stat.state === 'X' || (stat.flags & PF_EXITING) !== 0;
}

/** How a zombie ended, in words ("was killed by SIGKILL", "exited with code 1"); undefined when not known. */
export function describeExit(stat: ProcStat | undefined): string | undefined {
  if (stat?.state !== 'Z' || stat.exitCode === undefined) return undefined;
  const signal = stat.exitCode & 0x7f;
  if (signal === 0) return `exited with code ${(stat.exitCode >> 8) & 0xff}`;
  const name = Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`;
  return `was killed by ${name}`;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields start after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = text.slice(end + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]); // n as numbered in proc(5); fields[0] is field 3
  const exitCode = field(52);
  const policy = field(41);
  const stat = {
    pid, comm: text.slice(text.indexOf('(') + 1, end), ppid: field(4), pgid: field(5), state: fields[0] ?? '?', startTime: field(22), flags: field(9) || 0,
    exitCode: Number.isFinite(exitCode) ? exitCode : undefined, policy: Number.isFinite(policy) ? policy : undefined,
  };
  return Number.isFinite(stat.ppid) && Number.isFinite(stat.startTime) ? stat : undefined;
}

/**
 * A process's stat: undefined when it is gone, `null` when /proc could not be read
 * (this process at its fd limit), which must never be taken for "gone".
 */
export function tryStat(env: Pick<ProcessEnvironment, 'readStat'>, pid: number): ProcStat | undefined | null {
  let text: string | undefined;
  try {
    text = env.readStat(pid);
  } catch {
    return null;
  }
  return text === undefined ? undefined : parseStat(pid, text);
}

