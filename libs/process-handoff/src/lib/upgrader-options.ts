import type { ProcessEnvironment } from './process-environment';
import { START_YIELD_BOUNDS, type StartYieldBounds } from './start-yield';
import { checkYieldDir } from './peer-yield';

export type HandoffLogLevel = 'info' | 'warn' | 'error';

/** Receives every line the handoff logs; the app turns it into its own log format. */
export type HandoffLog = (level: HandoffLogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Options of `Upgrader.create()`; every field is optional. */
export interface UpgraderOptions {
  /** How long a successor may take from spawn to ready before it is killed with its tree. */
  readyTimeoutMs?: number;
  /** Written atomically (temporary file + rename) with this process's pid by `ready()`. */
  pidFile?: string;
  /** How many of the successor's last output lines a failed outcome carries. */
  outputLines?: number;
  /** Where the handoff logs; default: one line on stderr per event. */
  log?: HandoffLog;
  /**
   * Nice value (1..19) of the successor's own scheduling group until it is ready; it is
   * then set back to this process's. The successor is then started detached, in a session
   * and process group of its own (see successor-priority.ts). 0 (the default): in this
   * process's session and group, as an equal.
   */
  successorNice?: number;
  /**
   * With `successorNice`: how long (ms) a successor may run lowered without being ready
   * before this process sets its group back to its own value (a busy neighbour starves a
   * group at nice 19: about 1.5 % of a core). 0 never. Default 10,000; a successor that
   * listens sets its group back itself, whichever comes first.
   */
  successorEscapeMs?: number;
  /**
   * Start the successor at `SCHED_IDLE` in this process's session (its scheduling group)
   * instead of lowering a group of its own: every other thread on the machine preempts
   * its start at once, and it uses what the serving process leaves of the group's share.
   * When it starts to listen it sets its whole tree (Chromium too) back to `SCHED_OTHER`.
   * Needs `chrt` and CAP_SYS_NICE or `RLIMIT_NICE` >= 20 (see successor-idle.ts); where
   * they are missing, the successor starts as `successorNice` says, and the reason is
   * logged. `successorEscapeMs` applies too. Default false.
   */
  successorIdle?: boolean;
  /**
   * In a successor started at `SCHED_IDLE` (its predecessor's `successorIdle`): how long (ms)
   * after it starts to listen its own threads other than the main one (V8's compiler and
   * collector helpers, libuv's pool) stay at `SCHED_IDLE`. The main thread serves at once; the
   * helpers compile most in the first seconds under load, when they took a core from the
   * renders of a Chromium at a low priority. Once that long has passed they are set back,
   * unless the process retires at `SCHED_IDLE` by then. 0: with the rest of the tree. Default 0.
   */
  successorHelpersIdleMs?: number;
  /**
   * Fork the next successor's process ahead of time, when this process listens, and let
   * it exec node only at `upgrade()`. `child_process.spawn` forks: the event loop waits
   * while the kernel copies this process's page tables and until the child has exec'd,
   * 7-13 ms for a process of 150-250 MB (`tools/bench/spawn-cost.bench.ts`), and the
   * child runs at this process's priority until then. Prepared, the fork happens while
   * this process does not serve yet (before a successor listens, or when a first process
   * starts to listen), and an upgrade only writes one line to a pipe.
   *
   * The prepared process is a `/bin/sh` that waits on its stdin and then execs `env -C
   * <cwd> -- <node command>` (so a release path is resolved at the upgrade, as a direct
   * spawn does). It holds the listening sockets, so the upgrader ends it when a registered
   * server closes, at `close()`, and when this process exits (its stdin closes). The
   * upgrade falls back to a direct spawn when it is gone or no longer matches (another
   * listener registered since). After a failed upgrade (not a cancelled one) a new one is
   * prepared at once.
   * Default false.
   */
  prepareSuccessor?: boolean;
  /**
   * While this process does work whose latency counts (`Upgrader.yieldStart()`), a starting
   * successor is stopped (`SIGSTOP`, its whole tree) and continued when no such work is left:
   * on a machine with few CPUs any start beside a render slowed it 1.2-1.4 times, at every
   * priority. A stop lasts at most 250 ms and a start is stopped at most half its time (see
   * start-yield.ts). The successor starts through `setpriv --pdeathsig CONT` (util-linux), so
   * that the kernel continues it if this process dies while it is stopped; without `setpriv`
   * it never yields, and that is logged. `true` takes the default bounds; an object sets
   * `maxStopMs` (one stop at most, ms) and `maxShare` (of the start's time, 0 < share <= 1).
   * Default false.
   */
  startYield?: boolean | Partial<StartYieldBounds>;
  /**
   * In a successor: while this process does work whose latency counts (`yieldStart()`), the
   * processes its retiring predecessor offers (`Upgrader.retiring()`: its browsers, not itself)
   * are stopped, and continued when no such work is left. Letting go of a browser slowed the
   * renders beside it to 1.7-1.9 times their steady median, at `SCHED_IDLE` too. Same bounds as `startYield`, counted
   * from the offer. Should this process die, the predecessor continues them; should the
   * predecessor die, this process does. Default false.
   */
  retireYield?: boolean | Partial<StartYieldBounds>;
  /**
   * A directory that the instances of one service on this host share (an absolute path this
   * process can write, e.g. systemd's `RuntimeDirectory=`). Each instance says there when it
   * does work whose latency counts, once it serves, and `startYield` and `retireYield` then
   * yield to every instance's work, not this process's alone: a start beside the other
   * instance's renders slowed them as much as a start beside its own (see peer-yield.ts).
   * Default: none (each process yields to its own work only).
   */
  yieldDir?: string;
  /**
   * Called when a successor that failed (exited, timed out, was cancelled) has been
   * stopped with its tree and before it is killed: re-assert this process as the
   * service's main process where the app claimed it outside the library (systemd's
   * `MAINPID=`, a pid file the app writes itself). A successor claims just before
   * it says ready, so one that is too late may already have claimed. The library
   * takes back its own `pidFile` itself. Bounded by the kill wait; an error is logged.
   */
  reclaim?: (successorPid: number) => void | Promise<void>;
  /**
   * The largest state (structured-clone size in bytes) handed to a successor; a
   * larger one is not sent (logged) and the successor starts without it. It travels
   * while both processes are at their peak memory.
   */
  maxStateBytes?: number;
  /** The operating system as the handoff sees it; tests pass a fake. Default: this process. */
  environment?: ProcessEnvironment;
}

export interface ResolvedUpgraderOptions {
  readyTimeoutMs: number;
  pidFile: string | undefined;
  outputLines: number;
  successorNice: number;
  successorEscapeMs: number;
  successorIdle: boolean;
  successorHelpersIdleMs: number;
  prepareSuccessor: boolean;
  /** The bounds of a start's yielding; undefined: it does not yield. */
  startYield: StartYieldBounds | undefined;
  /** The bounds of a retiring predecessor's yielding to this process; undefined: its offer is declined. */
  retireYield: StartYieldBounds | undefined;
  /** Shared with the other instances on this host; undefined: this process yields to its own work only. */
  yieldDir: string | undefined;
  log: HandoffLog;
  reclaim: ((successorPid: number) => void | Promise<void>) | undefined;
  maxStateBytes: number;
}

/** The one place the handoff's defaults live. */
export const HANDOFF_DEFAULTS = Object.freeze({
  /** Long enough for Nest plus a Chromium pool on a busy 2-core host. */
  readyTimeoutMs: 60_000,
  outputLines: 40,
  successorNice: 0,
  /** Under 500 req/s on 2 cores a lowered start takes 3-6 s; next to a busy neighbour it never ends. */
  successorEscapeMs: 10_000,
  successorIdle: false,
  successorHelpersIdleMs: 0,
  prepareSuccessor: false,
  startYield: false,
  retireYield: false,
  /** 128 MiB: twice the QC pool's default cache bound; a 600 MB state measured 4 s and +1 GB RSS in the sender. */
  maxStateBytes: 128 * 1024 * 1024,
});

/** Internal timings of the handoff, not worth an option. */
export const HANDOFF_TIMINGS = Object.freeze({
  /** How often a starting successor's descendants are recorded, so that orphans of a crash can be killed. */
  treeSampleMs: 500,
  /** How long to wait for the exit event after SIGKILL before giving up on it (and saying so). */
  killWaitMs: 5_000,
  /** After a child's exit event, how long its IPC channel may take to close (late messages) before the exit is reported anyway. */
  channelCloseGraceMs: 2_000,
  /** How often a successor that is ready looks whether its predecessor has exited yet (/proc, one read). */
  predecessorPollMs: 250,
  /**
   * How long a predecessor may run at SCHED_IDLE (`retireIdle`) without exiting before its
   * successor sets its tree back to SCHED_OTHER. On a quiet 2-core host it exits 0.1-0.3 s
   * after it retired; next to a busy neighbour it would wait for a CPU indefinitely.
   */
  retireEscapeMs: 2_000,
  /**
   * How long a successor with `retireYield` still stops what its predecessor offered, after the
   * predecessor's exit, while any of it still runs: a browser's helpers exit after the browser,
   * and the browser may outlive the node that closed it by a few ms.
   */
  retireTailMs: 1_000,
});

const stderrLog: HandoffLog = (level, message, fields) => {
  const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  process.stderr.write(`process-handoff ${level}: ${message}${extra}\n`);
};

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`process-handoff: ${name} must be a positive integer, got ${String(value)} (default ${fallback})`);
  }
  return value;
}

function niceValue(value: number | undefined): number {
  if (value === undefined) return HANDOFF_DEFAULTS.successorNice;
  if (!Number.isInteger(value) || value < 0 || value > 19) throw new Error(`process-handoff: successorNice must be an integer from 0 to 19, got ${String(value)}`);
  return value;
}

function booleanValue(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new Error(`process-handoff: ${name} must be true or false, got ${String(value)}`);
  return value;
}

/** A duration option: an integer >= 0; `unit` says what it counts in the error. */
function msValue(name: string, value: number | undefined, fallback: number, unit = 'ms'): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`process-handoff: ${name} must be an integer >= 0 (${unit}), got ${String(value)}`);
  return value;
}

function yieldValue(name: 'startYield' | 'retireYield', value: boolean | Partial<StartYieldBounds> | undefined): StartYieldBounds | undefined {
  if (value === undefined) return HANDOFF_DEFAULTS[name] ? START_YIELD_BOUNDS : undefined;
  if (value === false) return undefined;
  if (value === true) return START_YIELD_BOUNDS;
  if (typeof value !== 'object' || value === null) throw new Error(`process-handoff: ${name} must be true, false or { maxStopMs, maxShare }, got ${String(value)}`);
  const maxStopMs = positiveInteger(`${name}.maxStopMs`, value.maxStopMs, START_YIELD_BOUNDS.maxStopMs);
  const maxShare = value.maxShare ?? START_YIELD_BOUNDS.maxShare;
  if (typeof maxShare !== 'number' || !(maxShare > 0 && maxShare <= 1)) throw new Error(`process-handoff: ${name}.maxShare must be a number above 0 and at most 1, got ${String(maxShare)}`);
  return { maxStopMs, maxShare };
}

/** Validates the options once, at start-up, with a clear message for a bad value. */
export function resolveUpgraderOptions(options: UpgraderOptions): ResolvedUpgraderOptions {
  if (options.pidFile !== undefined && options.pidFile.trim() === '') {
    throw new Error('process-handoff: pidFile is empty; leave it out to write no pid file');
  }
  return {
    readyTimeoutMs: positiveInteger('readyTimeoutMs', options.readyTimeoutMs, HANDOFF_DEFAULTS.readyTimeoutMs),
    pidFile: options.pidFile,
    outputLines: positiveInteger('outputLines', options.outputLines, HANDOFF_DEFAULTS.outputLines),
    successorNice: niceValue(options.successorNice),
    successorEscapeMs: msValue('successorEscapeMs', options.successorEscapeMs, HANDOFF_DEFAULTS.successorEscapeMs, 'ms; 0 never'),
    successorIdle: booleanValue('successorIdle', options.successorIdle, HANDOFF_DEFAULTS.successorIdle),
    successorHelpersIdleMs: msValue('successorHelpersIdleMs', options.successorHelpersIdleMs, HANDOFF_DEFAULTS.successorHelpersIdleMs),
    prepareSuccessor: booleanValue('prepareSuccessor', options.prepareSuccessor, HANDOFF_DEFAULTS.prepareSuccessor),
    startYield: yieldValue('startYield', options.startYield),
    retireYield: yieldValue('retireYield', options.retireYield),
    yieldDir: options.yieldDir === undefined ? undefined : checkYieldDir(options.yieldDir),
    log: options.log ?? stderrLog,
    reclaim: options.reclaim,
    maxStateBytes: positiveInteger('maxStateBytes', options.maxStateBytes, HANDOFF_DEFAULTS.maxStateBytes),
  };
}
