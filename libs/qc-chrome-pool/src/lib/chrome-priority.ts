import { accessSync, constants, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { delimiter, join } from 'node:path';
import { descendantsOf, listProcs } from './proc-tree';

/**
 * How Chromium is kept from competing with the event loop as an equal.
 *
 * Linux schedules by group before it schedules by process: with autogrouping on
 * (`/proc/sys/kernel/sched_autogroup_enabled`), every session is a group, and
 * puppeteer-style launches put each browser in a session of its own (detached).
 * A booting Chromium then weighs as much as the whole API, and a process's nice
 * value only orders processes inside one group. Two ways out (`chromeSession`):
 * - `api` (the default): Chromium stays in the API's session, so in its group, and
 *   every Chromium process and thread runs at `nice -n N` from its first
 *   instruction. Inside the group the event loop comes first; the group competes
 *   with the rest of the machine as one, as any service does, so a busy neighbour
 *   slows QC by its fair share and no more. This is also what a container or a
 *   systemd unit with its own cgroup gets in either mode (autogroups apply only in
 *   the root cgroup).
 * - `own`: a session of its own whose autogroup is lowered too
 *   (`/proc/<pid>/autogroup`): at nice 19 right after spawn, then at the configured
 *   value once the pages are warm (a group's nice value may go back down to 0 without
 *   privilege). Chromium then comes after everything else on the machine: measured on
 *   2 cores, one process keeping both cores busy starved its start past 30 s.
 * When this process may raise priorities (root, CAP_SYS_NICE), Chromium starts
 * without CAP_SYS_NICE (`setpriv`), since it raises its own browser and GPU threads to
 * nice -8 when it can. Lowering needs no privilege and is never undone: an
 * unprivileged process could not raise it back, so Chromium is started low instead
 * of the API's own priority being touched.
 */

/**
 * Where Chromium is scheduled: `api`, in the session (and so the scheduling group) of
 * the process that starts it, below its event loop by nice; `own`, in a session and
 * autogroup of its own at nice, like puppeteer's detached launch.
 */
export type ChromeSession = 'api' | 'own';

/** The lowest priority: nice 19. 0 leaves Chromium as it starts itself. */
export const MAX_NICE = 19;

/** What the launch applied, for logs and `/qc-stats`. */
export interface ChromePriority {
  /** The nice value asked for (0: nothing applied). */
  nice: number;
  /** Where Chromium is scheduled: in the API's session and group, or in its own. */
  session: ChromeSession;
  /**
   * The session's autogroup: `shared with the API` (`session: 'api'`), or with a session
   * of its own `set` (written), `off` (written, but the kernel's autogrouping is switched
   * off), `unsupported` (no /proc/<pid>/autogroup), `failed: <why>`, or `not asked` (nice 0).
   */
  autogroup: string;
  /** How the nice value is applied: `nice`, `nice without CAP_SYS_NICE`, `not asked`, or why not. */
  processes: string;
}

/** The command that starts `executable` at nice `nice`; `privileged` drops CAP_SYS_NICE first. */
export interface PriorityCommand {
  file: string;
  args: string[];
  processes: string;
}

/** Finds a program on PATH (then /usr/bin, /bin); undefined when absent. */
export function findProgram(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/bin', '/bin']) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      continue; // not in this directory
    }
  }
  return undefined;
}

/** True when this process may raise priorities: CAP_SYS_NICE (bit 23) in its effective set. */
export function hasSysNice(status = () => readFileSync('/proc/self/status', 'utf8')): boolean {
  try {
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status());
    return match !== null && (BigInt(`0x${match[1]}`) & (1n << 23n)) !== 0n;
  } catch {
    return false; // no /proc: nothing to drop
  }
}

/**
 * The command line that starts Chromium at nice `nice`: `nice -n N chromium ...`,
 * behind `setpriv` without CAP_SYS_NICE when `privileged`. Pure; `find` looks up programs.
 */
export function priorityCommand(
  executable: string,
  args: string[],
  nice: number,
  privileged: boolean,
  find: (name: string) => string | undefined = findProgram,
): PriorityCommand {
  if (nice === 0) return { file: executable, args, processes: 'not asked' };
  const niceBin = find('nice');
  if (!niceBin) return { file: executable, args, processes: 'not applied: no `nice` program on PATH (coreutils)' };
  const lowered = { file: niceBin, args: ['-n', String(nice), executable, ...args] };
  if (!privileged) return { ...lowered, processes: 'nice' };
  const setpriv = find('setpriv');
  if (!setpriv) return { ...lowered, processes: 'nice, but Chromium may raise its own threads: no `setpriv` program (util-linux) to drop CAP_SYS_NICE' };
  return {
    file: setpriv,
    args: ['--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice', '--', lowered.file, ...lowered.args],
    processes: 'nice without CAP_SYS_NICE',
  };
}

/** Effects on the system, injectable for tests. */
export interface AutogroupSystem {
  write(path: string, text: string): void;
  read(path: string): string;
  sleep(ms: number): Promise<void>;
}

const REAL_SYSTEM: AutogroupSystem = {
  write: (path, text) => writeFileSync(path, text),
  read: (path) => readFileSync(path, 'utf8'),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

/**
 * Sets the autogroup nice of `pid`'s session (down as well as up: only negative values
 * need privilege). The kernel lets a caller without
 * CAP_SYS_ADMIN do this once per 100 ms machine-wide (EAGAIN otherwise), so a few
 * retries cover browsers launched together.
 */
export async function lowerAutogroup(pid: number, nice: number, system: AutogroupSystem = REAL_SYSTEM): Promise<string> {
  return nice === 0 ? 'not asked' : setAutogroup(pid, nice, system);
}

/** {@link lowerAutogroup} for any value 0..19, 0 included (the starvation escape raises a group with it). */
export async function setAutogroup(pid: number, nice: number, system: AutogroupSystem = REAL_SYSTEM): Promise<string> {
  const path = `/proc/${pid}/autogroup`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      system.write(path, String(nice));
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'unsupported';
      if (code === 'EAGAIN' && attempt < 20) {
        await system.sleep(110);
        continue;
      }
      return `failed: ${code ?? (error as Error).message}`;
    }
  }
  try {
    return system.read('/proc/sys/kernel/sched_autogroup_enabled').trim() === '0' ? 'off' : 'set';
  } catch {
    return 'set';
  }
}

/** Validates a nice value for Chromium: an integer 0..19. */
export function validNice(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_NICE;
}

/** What {@link reniceTrees} did: threads set, threads refused and the first refusal's code. */
export interface ReniceResult {
  threads: number;
  refused: number;
  error?: string;
}

/**
 * Sets every thread of each root's process tree to `nice` (Linux applies a nice value per
 * thread; threads started later inherit it from the thread that starts them). Lowering is
 * always allowed; raising needs CAP_SYS_NICE or an RLIMIT_NICE that allows it. A thread
 * that exits in between is skipped.
 */
export function reniceTrees(rootPids: readonly number[], nice: number, procRoot = '/proc'): ReniceResult {
  if (!validNice(nice)) throw new Error(`reniceTrees: nice must be an integer from 0 to ${MAX_NICE}, got ${String(nice)}`);
  const procs = listProcs(procRoot);
  const pids = new Set<number>();
  for (const root of rootPids) {
    if (procs.some((p) => p.pid === root)) pids.add(root);
    for (const p of descendantsOf(root, procs)) pids.add(p.pid);
  }
  const result: ReniceResult = { threads: 0, refused: 0 };
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`${procRoot}/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      try {
        setPriority(Number(tid), nice);
        result.threads += 1;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        if (code === 'ESRCH') continue;
        result.refused += 1;
        result.error ??= code;
      }
    }
  }
  return result;
}
