import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ProcessEnvironment, SpawnRequest } from './process-environment';
import type { HandoffLog } from './upgrader-options';

/**
 * A successor that starts at `SCHED_IDLE` in its predecessor's scheduling group.
 *
 * Lowering a successor's own group (successor-priority.ts) still lets its start compete
 * with everything else on the machine as a group: each time the load or the serving
 * process wakes up next to it, it may wait a slice for the CPU. A `SCHED_IDLE` thread
 * is preempted at once by any other thread of its group, and the group's weight on a
 * CPU follows the weight of what runs there: with only idle threads on a CPU, the group
 * weighs almost nothing there, so whoever else wakes takes that CPU at once. Inside the
 * predecessor's group, the start also cannot starve next to a busy neighbour as a group
 * at nice 19 does: it gets whatever its group's share the serving process leaves.
 *
 * The successor is started through `chrt --idle 0` (it execs node, so the pid is the
 * successor's), everything it starts (Chromium) inherits the policy, and when it starts
 * to listen it sets its whole tree back to `SCHED_OTHER` (keeping each process's nice
 * value). Leaving `SCHED_IDLE` needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows the
 * thread's nice value (20 - nice, so 20 for a process at nice 0; systemd: `LimitNICE=+0`),
 * so the mode is used only where that holds, and the group lowering is the fallback.
 */

export const SCHED_OTHER = 0;
export const SCHED_IDLE = 5;
const CAP_SYS_NICE = 23;

/** The scheduling policy of a thread, field 41 of /proc/<pid>/task/<tid>/stat; undefined when unreadable. */
export function parsePolicy(statText: string | undefined): number | undefined {
  if (statText === undefined) return undefined;
  const end = statText.lastIndexOf(')');
  if (end < 0) return undefined;
  const value = Number(statText.slice(end + 2).split(' ')[41 - 3]);
  return Number.isInteger(value) ? value : undefined;
}

/** The nice value, field 19 of /proc/<pid>/stat. */
export function parseNice(statText: string | undefined): number | undefined {
  if (statText === undefined) return undefined;
  const end = statText.lastIndexOf(')');
  const value = Number(statText.slice(end + 2).split(' ')[19 - 3]);
  return end >= 0 && Number.isInteger(value) ? value : undefined;
}

/** Whether `CapEff` of /proc/<pid>/status holds CAP_SYS_NICE. */
export function hasCapSysNice(statusText: string | undefined): boolean {
  const match = /^CapEff:\s*([0-9a-f]+)$/im.exec(statusText ?? '');
  return match !== null && (BigInt(`0x${match[1]}`) & (1n << BigInt(CAP_SYS_NICE))) !== 0n;
}

/** The soft RLIMIT_NICE of /proc/<pid>/limits ("Max nice priority  20  20"); undefined when not found. */
export function parseNiceLimit(limitsText: string | undefined): number | undefined {
  const match = /^Max nice priority\s+(\S+)/im.exec(limitsText ?? '');
  if (!match) return undefined;
  return match[1] === 'unlimited' ? 40 : Number(match[1]);
}

/** What an idle start needs here: `chrt`, and the right to set SCHED_OTHER back, or why not. */
export type IdleSupport = { ok: true; chrt: string } | { ok: false; reason: string };

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What {@link idleSupport} reads: the platform, PATH, files of /proc/self, and whether a file exists. */
export interface IdleProbe {
  platform: string;
  path: string | undefined;
  readText(path: string): string | undefined;
  isFile(path: string): boolean;
}

/** The real probe of this process. */
export function processProbe(platform: string, path: string | undefined): IdleProbe {
  return {
    platform, path, readText: readOrUndefined,
    isFile: (file) => {
      try {
        return statSync(file).isFile();
      } catch {
        return false;
      }
    },
  };
}

/** The probe of a {@link ProcessEnvironment} (the real one, or a test's fake). */
export function environmentProbe(env: Pick<ProcessEnvironment, 'platform' | 'env' | 'readText' | 'realpath'>): IdleProbe {
  return { platform: env.platform, path: env.env['PATH'], readText: (file) => env.readText(file), isFile: (file) => 'path' in env.realpath(file) };
}

/** Where a util-linux tool (`chrt`, `setpriv`) is, from PATH and then /usr/bin and /bin; undefined when nowhere. */
export function findUtility(name: string, probe: Pick<IdleProbe, 'path' | 'isFile'>): string | undefined {
  const dirs = [...(probe.path ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/bin'];
  return dirs.map((dir) => join(dir, name)).find((candidate) => probe.isFile(candidate));
}

/** Where `chrt` (util-linux) is; undefined when nowhere. */
export function findChrt(probe: Pick<IdleProbe, 'path' | 'isFile'>): string | undefined {
  return findUtility('chrt', probe);
}

/**
 * Whether this process can start a successor at SCHED_IDLE and have it set back: it
 * needs `chrt`, and CAP_SYS_NICE or an RLIMIT_NICE of at least 20 - its nice value
 * (a successor inherits both, and the limits of its Chromium too).
 */
export function idleSupport(probe: IdleProbe): IdleSupport {
  if (probe.platform !== 'linux') return { ok: false, reason: `scheduling policies are set through Linux's chrt; this is ${probe.platform}` };
  const chrt = findChrt(probe);
  if (chrt === undefined) return { ok: false, reason: 'chrt (util-linux) is neither on PATH nor in /usr/bin or /bin' };
  if (hasCapSysNice(probe.readText('/proc/self/status'))) return { ok: true, chrt };
  const nice = parseNice(probe.readText('/proc/self/stat')) ?? 0;
  const limit = parseNiceLimit(probe.readText('/proc/self/limits')) ?? 0;
  const needed = 20 - nice;
  if (limit >= needed) return { ok: true, chrt };
  return {
    ok: false,
    reason:
      `a successor could not leave SCHED_IDLE: no CAP_SYS_NICE, and RLIMIT_NICE is ${limit} where nice ${nice} needs ${needed} ` +
      `(systemd: LimitNICE=+${nice}; pam_limits: nice ${nice} in /etc/security/limits.conf)`,
  };
}

/** The spawn request run through `chrt --idle 0` (which execs it: same pid). */
export function idleRequest(request: SpawnRequest, chrt: string): SpawnRequest {
  return { ...request, command: chrt, args: ['--idle', '0', request.command, ...request.args] };
}

/** `root` and its descendants, by the parent links in /proc; a pid in `exclude` is left out with its own descendants. */
export function processTree(root: number, proc = '/proc', exclude: readonly number[] = []): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOrUndefined(`${proc}/${name}/stat`);
    const end = stat?.lastIndexOf(')') ?? -1;
    if (stat === undefined || end < 0) continue;
    const ppid = Number(stat.slice(end + 2).split(' ')[1]);
    const children = parents.get(ppid) ?? [];
    children.push(Number(name));
    parents.set(ppid, children);
  }
  const tree: number[] = [];
  const queue = exclude.includes(root) ? [] : [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(parents.get(pid) ?? []).filter((child) => !exclude.includes(child)));
  }
  return tree;
}

/** The ids of the process's threads (its main thread only, with `mainOnly`) that run at SCHED_IDLE (`idle`), or at any other policy. */
function threadsAt(pid: number, idle: boolean, proc: string, mainOnly = false): number[] {
  let threads: string[];
  try {
    threads = mainOnly ? [String(pid)] : readdirSync(`${proc}/${pid}/task`);
  } catch {
    return []; // gone
  }
  return threads.filter((tid) => {
    const policy = parsePolicy(readOrUndefined(`${proc}/${pid}/task/${tid}/stat`));
    return policy !== undefined && (policy === SCHED_IDLE) === idle;
  }).map(Number);
}

/**
 * Runs `chrt --<policy> --all-tasks --pid 0 PID` for each pid from one shell: one spawn from
 * this (large) process, which blocks its event loop for the fork, instead of one per pid.
 * A pid in `oneTask` is set alone, without its other threads (chrt without --all-tasks: a
 * process's first thread has its pid; any other thread is named by its own id).
 * Resolves with chrt's complaints, one "PID: message" each.
 */
function setPolicy(chrt: string, policy: 'other' | 'idle', pids: number[], oneTask: readonly number[] = []): Promise<string[]> {
  const script = 'c=$1; p=$2; shift 2; for p2 in "$@"; do case $p2 in t*) m=$("$c" "--$p" --pid 0 "${p2#t}" 2>&1) || echo "${p2#t}: $m";; *) m=$("$c" "--$p" --all-tasks --pid 0 "$p2" 2>&1) || echo "$p2: $m";; esac; done';
  const args = pids.map((pid) => (oneTask.includes(pid) ? `t${pid}` : String(pid)));
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', script, 'sh', chrt, policy, ...args], { timeout: 10_000 }, (error, stdout) => {
      const lines = String(stdout).split('\n').filter(Boolean);
      resolve(error && lines.length === 0 ? [`${pids.join(' ')}: ${error.message}`] : lines);
    });
  });
}

/** What {@link leaveIdle} and {@link enterIdle} did. */
export interface LeaveIdleResult {
  /** Processes whose threads were all set (to SCHED_OTHER, or to SCHED_IDLE). */
  processes: number;
  /** Walks of the tree it took (a process started during one is found by the next). */
  rounds: number;
  /** Processes with a thread still at the old policy after the last round, with chrt's message. */
  failures: string[];
}

const MAX_ROUNDS = 5;

/**
 * Sets every thread of `root` and its descendants (without the subtrees of `exclude`) to
 * `policy`, walking again until none is left at another policy: a process forked from one
 * not yet set is found by the next walk. Of a process in `mainOnly`, only the main thread.
 */
async function setTreePolicy(root: number, chrt: string, policy: 'other' | 'idle', proc: string, exclude: readonly number[], counted = new Set<number>(), mainOnly: readonly number[] = []): Promise<LeaveIdleResult> {
  const pending = () => processTree(root, proc, exclude).filter((pid) => threadsAt(pid, policy === 'other', proc, mainOnly.includes(pid)).length > 0);
  let failures: string[] = [];
  for (let round = 1; round <= MAX_ROUNDS; round += 1) {
    const left = pending();
    if (left.length === 0) return { processes: counted.size, rounds: round, failures: [] };
    failures = await setPolicy(chrt, policy, left, mainOnly);
    for (const pid of left) if (!failures.some((f) => f.startsWith(`${pid}:`))) counted.add(pid);
  }
  const processes = counted.size;
  const left = pending();
  if (left.length === 0) return { processes, rounds: MAX_ROUNDS, failures: [] };
  // A process that exited in between is no failure; one still at the old policy is, with what chrt said of it.
  const still = policy === 'other' ? 'still at SCHED_IDLE' : 'not at SCHED_IDLE';
  return { processes, rounds: MAX_ROUNDS, failures: left.map((pid) => failures.find((f) => f.startsWith(`${pid}:`)) ?? `${pid}: ${still}`) };
}

/**
 * Sets every thread of `root` and its descendants that runs at SCHED_IDLE back to
 * SCHED_OTHER (their nice values stay), walking again until no idle thread is left.
 * The subtrees of `exclude` are left as they are; of a process in `mainOnly`, only its main
 * thread is set back.
 */
export function leaveIdle(root: number, chrt: string, proc = '/proc', exclude: readonly number[] = [], mainOnly: readonly number[] = []): Promise<LeaveIdleResult> {
  return setTreePolicy(root, chrt, 'other', proc, exclude, new Set(), mainOnly);
}

/**
 * This process's threads other than its main one that still run at SCHED_IDLE, set back to
 * SCHED_OTHER; none while the main thread runs at SCHED_IDLE (the process retires so, and they
 * stay with it). Resolves with how many were set back, and chrt's complaints.
 */
export async function leaveIdleHelpers(pid: number, chrt: string, proc = '/proc'): Promise<{ threads: number; failures: string[] }> {
  const idleThreads = threadsAt(pid, true, proc);
  const idle = idleThreads.includes(pid) ? [] : idleThreads;
  if (idle.length === 0) return { threads: 0, failures: [] };
  const failures = await setPolicy(chrt, 'other', idle, idle);
  return { threads: idle.length - failures.length, failures };
}

/**
 * Sets every thread of `root` and its descendants, without the subtrees of `exclude`, to
 * SCHED_IDLE (their nice values stay). Entering SCHED_IDLE needs no privilege; leaving it
 * does (see {@link idleSupport}).
 */
export async function enterIdle(root: number, chrt: string, proc = '/proc', exclude: readonly number[] = []): Promise<LeaveIdleResult> {
  if (exclude.includes(root)) return setTreePolicy(root, chrt, 'idle', proc, exclude);
  // `root` (the caller, a retiring process) alone first, without a walk: the walks of its tree,
  // hundreds of reads of /proc, then run at SCHED_IDLE, and so does the shell it forks for the
  // rest (a child inherits the policy). A retirement's first walk and shell ran at full priority
  // for 30-60 ms beside the successor's renders. A root that failed is tried again by the walk.
  const failed = (await setPolicy(chrt, 'idle', [root])).length > 0;
  return setTreePolicy(root, chrt, 'idle', proc, exclude, new Set(failed ? [] : [root]));
}

/**
 * In the successor, as it starts to listen: its tree back to SCHED_OTHER. With `helpersIdleMs`
 * > 0, this process's own threads other than the main one (V8's compiler and collector helpers,
 * libuv's pool) stay at SCHED_IDLE that much longer, then follow (`successorHelpersIdleMs`).
 */
export async function leaveIdleSelf(pid: number, pathVariable: string | undefined, log: HandoffLog, helpersIdleMs = 0): Promise<void> {
  const chrt = findChrt(processProbe(process.platform, pathVariable));
  if (chrt === undefined) {
    log('warn', 'this process started at SCHED_IDLE and cannot find chrt to leave it: it serves at the lowest priority');
    return;
  }
  const result = await leaveIdle(pid, chrt, '/proc', [], helpersIdleMs > 0 ? [pid] : []);
  if (result.failures.length > 0) log('warn', `could not set every process of this tree back from SCHED_IDLE: ${result.failures.join('; ')}`);
  else log('info', `left SCHED_IDLE: ${result.processes} processes of this tree back to SCHED_OTHER${helpersIdleMs > 0 ? `, this process's main thread only: its other threads follow in ${helpersIdleMs} ms` : ''}`, { rounds: result.rounds });
  if (helpersIdleMs > 0) {
    setTimeout(() => {
      void leaveIdleHelpers(pid, chrt).then(({ threads, failures }) => {
        if (failures.length > 0) log('warn', `could not set this process's other threads back from SCHED_IDLE: ${failures.join('; ')}`);
        else if (threads > 0) log('info', `this process's other threads back to SCHED_OTHER (${threads})`);
      });
    }, helpersIdleMs).unref();
  }
}

/** In the predecessor, when an idle successor is not ready `afterMs` after its spawn: its tree back to SCHED_OTHER. */
export async function raiseIdleSuccessor(pid: number, chrt: string, afterMs: number, log: HandoffLog): Promise<void> {
  const result = await leaveIdle(pid, chrt);
  if (result.processes === 0 && result.failures.length === 0) return; // it listens already and did this itself
  if (result.failures.length > 0) log('warn', `could not set the idle successor's tree back to SCHED_OTHER: ${result.failures.join('; ')}`, { successorPid: pid });
  else log('warn', `successor ${pid} was not ready ${afterMs} ms after its start at SCHED_IDLE (a busy machine?): its tree is set back to SCHED_OTHER`, { successorPid: pid });
}

/**
 * In a successor, when its predecessor has run at SCHED_IDLE (it retires so after a handoff,
 * see `Upgrader.retireIdle`) for `afterMs` and still has not exited: the predecessor's tree,
 * without this process's own, back to SCHED_OTHER. Next to a busy neighbour a tree at
 * SCHED_IDLE gets almost no CPU, and its exit (its browser's too) would wait for one.
 */
export async function raiseRetiringPredecessor(pid: number, self: number, chrt: string, afterMs: number, log: HandoffLog): Promise<void> {
  const result = await leaveIdle(pid, chrt, '/proc', [self]);
  if (result.processes === 0 && result.failures.length === 0) return; // it exited meanwhile
  if (result.failures.length > 0) log('warn', `could not set the retiring predecessor's tree back to SCHED_OTHER: ${result.failures.join('; ')}`, { predecessorPid: pid });
  else log('warn', `predecessor ${pid} still ran ${afterMs} ms after it retired at SCHED_IDLE (a busy machine?): its tree is set back to SCHED_OTHER`, { predecessorPid: pid, processes: result.processes });
}
