import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for';

/** True while `pid` is a live process; a zombie (exited, not reaped yet) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new Error(`cannot probe pid ${pid}`, { cause: error });
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // reaped between the two looks
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, so look after the last ')'.
  return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
}

/** Parent pid of every process, from /proc (a process that ends while we look is left out). */
export function processParents(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // it ended while we looked
    }
  }
  return parents;
}

/**
 * `root` and every process below it by parent links (a Chromium in a process group of its own
 * is still below the node process that started it). Empty when `root` is not running.
 */
export function processTree(root: number | undefined, parents = processParents()): number[] {
  if (root === undefined || !parents.has(root)) return [];
  const found = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (found.has(parent) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/**
 * Proportional set size of a process in kB (`/proc/<pid>/smaps_rollup`): a page shared by several
 * processes is divided among them, so summing it over Chromium's processes does not count shared
 * pages many times over, as RSS sums do. 0 for a process that ended while we looked.
 */
export function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Resident set size of a process in kB, from /proc (NaN when it is gone). */
export function rssKb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Live processes whose command line contains `text` and looks like Chromium (a run's profiles live in its own TMPDIR: name it). */
export function chromiumMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(text) && /chrom/i.test(cmdline) && isAlive(Number(name))) found.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** The pid in a pid file, or undefined while there is none. */
export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** Pids of processes a suite started or saw started (e.g. by the CLI); `killLeftoverApis()` ends them. */
const tracked = new Set<number>();

/** Remembers a pid (one the suite started, one a pid file names) so cleanup ends it. Returns it. */
export function track<T extends number | undefined>(pid: T): T {
  if (pid !== undefined) tracked.add(pid);
  return pid;
}

/**
 * Sends `signal` to `target` (a pid, or minus a process group's id). A target
 * that is already gone is no error: a process can exit between the moment we
 * see it alive and the signal.
 */
export function signalIfAlive(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw new Error(`cannot send ${signal} to ${target < 0 ? `process group ${-target}` : `pid ${target}`}`, { cause: error });
  }
}

/** SIGKILL to the process group led by `pid` (its Chromium, a handoff successor) and to `pid` itself. */
function killTree(pid: number): void {
  for (const target of [-pid, pid]) signalIfAlive(target, 'SIGKILL');
}

/**
 * Stops processes by pid: SIGTERM (the API drains and closes its Chromium),
 * then after `graceMs` SIGKILL to each one and to the process group it leads.
 * `graceMs = 0` kills at once. Resolves once none of them is alive.
 */
export async function stopProcesses(pids: Iterable<number>, graceMs = 15_000): Promise<void> {
  const all = [...new Set(pids)];
  const gone = () => all.every((pid) => !isAlive(pid));
  if (graceMs > 0) {
    for (const pid of all.filter(isAlive)) signalIfAlive(pid, 'SIGTERM');
    // Past the grace period everything is killed below either way: the timeout is no error here.
    await waitFor('started processes to exit', gone, graceMs).catch(() => undefined);
  }
  // Groups too, even when their leader is gone: a handoff successor outlives the process that started it.
  for (const pid of all) killTree(pid);
  await waitFor('killed processes to be gone', gone, 10_000);
}

/**
 * Every process this run starts carries this variable (set here, inherited by the APIs,
 * the CLI and what they start), so cleanup can find a handoff successor that left its
 * predecessor's process group (a successor lowered with HANDOFF_SUCCESSOR_NICE starts in a
 * session of its own).
 */
const RUN_MARKER = `EDU_E2E_RUN=${process.pid}-${Date.now()}`;
process.env['EDU_E2E_RUN'] = RUN_MARKER.slice('EDU_E2E_RUN='.length);

/** The marker as an environment entry, for processes started with an environment of their own. */
export function runMarkerEnv(): Record<string, string> {
  return { EDU_E2E_RUN: RUN_MARKER.slice('EDU_E2E_RUN='.length) };
}

/** Handoff successors started by this run (their start-up environment has our marker and PROCESS_HANDOFF), alive now. */
export function runSuccessors(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(RUN_MARKER) && env.some((v) => v.startsWith('PROCESS_HANDOFF='))) found.push(Number(name));
    } catch {
      continue; // gone, or not ours to read
    }
  }
  return found.filter(isAlive);
}

/** The QC profiles in `dir` (`edu-agents-qc-<pid>-...`), with the pid of the API that owns each. */
export function qcProfiles(dir: string): { name: string; owner: number }[] {
  return readdirSync(dir).flatMap((name) => {
    const owner = /^edu-agents-qc-(\d+)-/.exec(name)?.[1];
    return owner === undefined ? [] : [{ name, owner: Number(owner) }];
  });
}

/** Owner pids of the QC profiles in `dir`. */
export const profileOwners = (dir: string): number[] => qcProfiles(dir).map((profile) => profile.owner);

/**
 * Removes the QC profiles (Chromium's singleton directory inside) that the API processes
 * `pids` left in `dir` when they were killed. The next pool's start would remove them too,
 * but a test run alone would leave them behind.
 */
export function removeProfilesOf(pids: Iterable<number>, dir = tmpdir()): string[] {
  const owners = new Set(pids);
  const removed = qcProfiles(dir).filter(({ owner }) => owners.has(owner) && !isAlive(owner)).map(({ name }) => name);
  for (const name of removed) rmSync(join(dir, name), { recursive: true, force: true, maxRetries: 3 });
  return removed;
}

/** Ends every tracked process (see {@link track}) and every handoff successor of this run, and removes their QC profiles, e.g. in afterEach. */
export async function killLeftoverApis(graceMs = 0): Promise<void> {
  const pids = [...tracked, ...runSuccessors()];
  tracked.clear();
  await stopProcesses(pids, graceMs);
  removeProfilesOf(pids);
}
