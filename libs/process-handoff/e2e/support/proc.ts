import { readdirSync, readFileSync } from 'node:fs';

/** `stat` fields after the command name. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True while `pid` runs or is stopped; a zombie or an exiting process counts as gone. */
export function isRunning(pid: number): boolean {
  const f = statFields(pid);
  if (!f) return false;
  return f[0] !== 'Z' && f[0] !== 'X' && (Number(f[6]) & 0x4) === 0;
}

/** The state letter of a process (R, S, T for stopped, Z, ...), undefined when gone. */
export function stateOf(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** Live processes whose command line contains `text` (a run's directory names every process of the run). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(text)) && isRunning(pid)) found.push(pid);
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Open fds of a process and its soft RLIMIT_NOFILE. */
export function fdUsage(pid: number): { open: number; limit: number } {
  const open = readdirSync(`/proc/${pid}/fd`).length;
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return { open, limit: Number(line?.split(/\s+/)[3]) };
}

/** Sends a signal; false when the process is gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
