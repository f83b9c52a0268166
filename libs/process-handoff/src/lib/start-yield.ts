import { readFileSync } from 'node:fs';
import { parseStat, tryStat } from './proc-stat';
import { processTree } from './successor-idle';
import type { ProcessEnvironment, SpawnRequest } from './process-environment';
import type { HandoffLog } from './upgrader-options';

/**
 * A successor's start that yields both CPUs while its predecessor does work whose latency
 * counts (a QC render): the predecessor stops the successor's tree (`SIGSTOP`) when such work
 * begins and continues it (`SIGCONT`) when none is left.
 *
 * Why not a priority: on a machine with few CPUs a render runs on all of them, and any other
 * work on another CPU made it 1.2-1.4 times slower at every priority Linux has, `SCHED_IDLE`
 * included (tools/bench/README.md, "The API's dependencies in one file, and what a render
 * loses to any other work"). Stopped during each render, a start left the renders next to it
 * at 0.97-1.04 times steady instead of 1.28-1.39, and took 0.1-0.4 s longer ("A start that
 * yields to the renders").
 *
 * Bounds, so that a predecessor that renders all the time cannot hold a start back for good:
 * one stop lasts at most `maxStopMs`, a render that outlasts it does not stop the start again,
 * and the start is stopped at most `maxShare` of the time since its spawn (plus one stop).
 *
 * A stopped successor must never outlive its predecessor stopped: nobody would continue it,
 * and it holds the listening sockets. The successor is started through `setpriv --pdeathsig
 * CONT` (util-linux; it execs, the pid stays), so the kernel continues it when the predecessor
 * dies, however it dies; the successor then continues its own tree (`continueStoppedTree`).
 */

/** How long one stop may last, and what share of a start may be spent stopped. */
export interface StartYieldBounds {
  maxStopMs: number;
  maxShare: number;
}

export const START_YIELD_BOUNDS: StartYieldBounds = Object.freeze({ maxStopMs: 250, maxShare: 0.5 });

/** A stop shorter than this is not worth two signals per process. */
const MIN_STOP_MS = 5;
/** While the successor has not exec'd node yet (a millisecond or two after its spawn), held work looks again this often. */
const RETRY_MS = 5;

/** What a start's yielding did, for the log. */
export interface StartYieldSummary {
  stops: number;
  stoppedMs: number;
  longestMs: number;
  /** Stops that ended at `maxStopMs` or at the share, before the work did. */
  cut: number;
}

/**
 * The predecessor's count of work in flight whose latency counts. Held across upgrades: a
 * render that began before the signal still stops the successor when it starts.
 */
export class YieldGate {
  private holds = 0;
  private readonly listeners = new Set<(held: boolean) => void>();

  get held(): boolean {
    return this.holds > 0;
  }

  /** Counts one piece of work until the returned function is called (once; later calls do nothing). */
  hold(): () => void {
    this.holds += 1;
    if (this.holds === 1) this.emit(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      if (this.holds === 0) this.emit(false);
    };
  }

  /** Calls `listener` whenever the gate goes from free to held or back; returns the unsubscribe. */
  subscribe(listener: (held: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private emit(held: boolean): void {
    for (const listener of [...this.listeners]) listener(held);
  }
}

type YieldEnvironment = Pick<ProcessEnvironment, 'kill' | 'setTimer' | 'clearTimer' | 'now'>;

/**
 * One start's yielding, in the predecessor: follows the gate from the successor's spawn until
 * {@link end} (its ready or its failure). `members`: the successor's pid first, then its
 * descendants known to be still the same processes (stopped in that order, continued in the
 * reverse); none while the successor cannot be stopped yet (then held work looks again shortly).
 */
export class StartYield {
  private readonly startedAt: number;
  private readonly unsubscribe: () => void;
  private stopped: { at: number; pids: number[]; timer: unknown } | undefined;
  /** The gate stayed held past a cut stop: no new stop until it is free again. */
  private spent = false;
  private ended = false;
  private retry: unknown;
  private readonly summary: StartYieldSummary = { stops: 0, stoppedMs: 0, longestMs: 0, cut: 0 };

  constructor(
    private readonly env: YieldEnvironment,
    private readonly gate: YieldGate,
    private readonly members: () => number[],
    private readonly bounds: StartYieldBounds = START_YIELD_BOUNDS,
  ) {
    this.startedAt = env.now();
    this.unsubscribe = gate.subscribe((held) => (held ? this.stop() : this.resume(false)));
    if (gate.held) this.stop();
  }

  /** Continues the tree if it is stopped and follows the gate no more; returns what it did. Idempotent. */
  end(): StartYieldSummary {
    if (!this.ended) {
      this.ended = true;
      this.unsubscribe();
      if (this.retry !== undefined) this.env.clearTimer(this.retry);
      this.resume(false);
    }
    return { ...this.summary };
  }

  /** Continues what is stopped now, as a cut: no new stop until the work held now has ended. */
  interrupt(): void {
    if (this.stopped !== undefined) this.resume(true);
  }

  /** How long a stop beginning now may last: one stop's bound, within the share of the start so far. */
  private allowanceMs(now: number): number {
    const { maxStopMs, maxShare } = this.bounds;
    return Math.min(maxStopMs, maxStopMs + maxShare * (now - this.startedAt) - this.summary.stoppedMs);
  }

  private stop(): void {
    if (this.ended || this.stopped !== undefined || this.spent) return;
    const now = this.env.now();
    const allowance = this.allowanceMs(now);
    if (allowance < MIN_STOP_MS) return;
    const pids = this.members();
    if (pids.length === 0) {
      this.retry ??= this.env.setTimer(() => {
        this.retry = undefined;
        if (this.gate.held) this.stop();
      }, RETRY_MS);
      return;
    }
    for (const pid of pids) this.env.kill(pid, 'SIGSTOP');
    const timer = this.env.setTimer(() => this.resume(true), allowance);
    this.stopped = { at: now, pids, timer };
  }

  private resume(cut: boolean): void {
    if (!cut) this.spent = false;
    const stopped = this.stopped;
    if (stopped === undefined) return;
    this.stopped = undefined;
    if (!cut) this.env.clearTimer(stopped.timer);
    for (const pid of [...stopped.pids].reverse()) this.env.kill(pid, 'SIGCONT');
    const lasted = this.env.now() - stopped.at;
    this.summary.stops += 1;
    this.summary.stoppedMs += lasted;
    this.summary.longestMs = Math.max(this.summary.longestMs, lasted);
    if (cut) {
      this.summary.cut += 1;
      this.spent = this.gate.held;
    }
  }
}

/**
 * `root` and its descendants as the children files of each process's main thread show them,
 * one read per process (a process's other threads' children are left out: a full walk reads
 * every thread's file, and a starting Chromium has a hundred threads). Node and Chromium start
 * most of their processes from their main threads, so this finds a browser the moment it is
 * spawned, between two samples of the full walk. At most `limit` processes.
 */
export function mainThreadTree(env: Pick<ProcessEnvironment, 'readText'>, root: number, limit = 64): number[] {
  return treeBy(root, (pid) => mainThreadChildren(env, pid), limit);
}

/** The pids in the children file of `pid`'s main thread; none when it cannot be read (gone). */
function mainThreadChildren(env: Pick<ProcessEnvironment, 'readText'>, pid: number): number[] {
  return (env.readText(`/proc/${pid}/task/${pid}/children`) ?? '').split(' ').filter((c) => c.trim() !== '').map(Number).filter((v) => Number.isInteger(v) && v > 0);
}

/** `root` and its descendants by `children`, breadth first (parents before children), at most `limit`. */
function treeBy(root: number, children: (pid: number) => number[], limit: number): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length && tree.length < limit; i += 1) {
    for (const child of children(tree[i] as number)) if (!tree.includes(child)) tree.push(child);
  }
  return tree.slice(0, limit);
}

/**
 * What a retiring predecessor offers its successor to stop (`Upgrader.retiring`): its children
 * except the successor, as kill(2) takes them. A child leading a process group of its own (a
 * detached child, as puppeteer starts a browser) is its whole group (`-pgid`): one signal
 * reaches every process of a browser, however it started them. Any other child (a browser in
 * this process's group, as the API's pool starts Chromium) is itself and its whole tree, parents
 * before children, read once now from every thread's children file: a browser starts its helper
 * processes from threads other than its main one. This process itself never: it still serves
 * and shuts down. At most `limit` targets.
 */
export function retirementTargets(env: Pick<ProcessEnvironment, 'readText' | 'readStat' | 'listChildren'>, self: number, successor: number | undefined, limit = 256, passedOn: readonly number[] = []): number[] {
  // Every thread's children where the kernel lists them, else the main thread's.
  const childrenOf = (pid: number) => env.listChildren?.(pid) ?? mainThreadChildren(env, pid);
  const ownGroup = tryStat(env, self)?.pgid;
  const targets: number[] = [];
  for (const child of childrenOf(self)) {
    if (child === successor || passedOn.includes(child) || targets.length >= limit) continue;
    const pgid = tryStat(env, child)?.pgid; // undefined: gone, or unreadable (our fd limit): not offered
    if (pgid === undefined) continue;
    if (pgid === child && pgid !== ownGroup) targets.push(-child);
    else targets.push(...treeBy(child, childrenOf, limit - targets.length));
  }
  return targets;
}

/** The spawn request run through `setpriv --pdeathsig CONT` (which execs it: same pid). */
export function continueOnParentDeath(request: SpawnRequest, setpriv: string): SpawnRequest {
  return { ...request, command: setpriv, args: ['--pdeathsig', 'CONT', '--', request.command, ...request.args] };
}

/** One line for the log once a start (in the predecessor) or a retirement (in the successor) that yielded ended. */
export function logStartYield(log: HandoffLog, pid: number, summary: StartYieldSummary, who: 'successor' | 'retiring predecessor' = 'successor'): void {
  if (summary.stops === 0) return;
  const key = who === 'successor' ? 'successorPid' : 'predecessorPid';
  log('info', `${who} ${pid} yielded to this process's work ${summary.stops} times, ${Math.round(summary.stoppedMs)} ms in all`, {
    [key]: pid, stops: summary.stops, stoppedMs: Math.round(summary.stoppedMs), longestMs: Math.round(summary.longestMs), cut: summary.cut,
  });
}

/**
 * In a successor whose predecessor went away before it was ready: continues every process
 * of its own tree that is stopped. The kernel continued this process itself (`--pdeathsig
 * CONT`); its browser may have been stopped with it. Returns how many it continued.
 */
export function continueStoppedTree(root: number, proc = '/proc'): number {
  let continued = 0;
  for (const pid of processTree(root, proc)) {
    let text: string;
    try {
      text = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    if (parseStat(pid, text)?.state !== 'T') continue;
    try {
      process.kill(pid, 'SIGCONT');
      continued += 1;
    } catch {
      // gone meanwhile
    }
  }
  return continued;
}
