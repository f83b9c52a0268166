import { CLOCK_TICKS_PER_SEC, descendantsOf, listProcs } from './proc-tree';

/** When a pool's browsers count as quiet, and how long to wait for that. */
export interface QuietOptions {
  /** Give up (resolve with `quiet: false`) this long (ms) after the call. */
  deadlineMs: number;
  /** Length (ms) of one measuring window; default 250. */
  windowMs?: number;
  /** Quiet: every browser process together used at most this share of one core over a window; default 0.1. */
  maxCores?: number;
}

/** How a wait for quiet browsers ended. */
export interface QuietResult {
  /** True when a window was quiet before the deadline. */
  quiet: boolean;
  /** How long the wait took (ms). */
  waitedMs: number;
  /** CPU time (ms) the browsers used during the wait. */
  cpuMs: number;
}

/** What the wait reads and how it waits; a test passes its own. */
export interface QuietDeps {
  /** CPU time (ms) each browser process has used so far, by pid. */
  cpuByPid(): Map<number, number>;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const QUIET_DEFAULTS = Object.freeze({ windowMs: 250, maxCores: 0.1 });

/**
 * Waits until a window of `windowMs` in which the browsers used at most `maxCores`
 * of a core, or until the deadline. A new browser goes on working for a while after
 * its first pages are ready (up to a CPU-second on the machines measured): a caller
 * that is about to take over work from another process waits here, so that this
 * work does not compete with that process at the priority it serves at.
 */
export async function untilQuiet(options: QuietOptions, deps: QuietDeps): Promise<QuietResult> {
  const windowMs = options.windowMs ?? QUIET_DEFAULTS.windowMs;
  const maxCores = options.maxCores ?? QUIET_DEFAULTS.maxCores;
  if (!Number.isFinite(options.deadlineMs) || options.deadlineMs < 0) throw new Error(`untilQuiet: deadlineMs must be a number >= 0, got ${String(options.deadlineMs)}`);
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new Error(`untilQuiet: windowMs must be a number > 0, got ${String(windowMs)}`);
  if (!Number.isFinite(maxCores) || maxCores < 0) throw new Error(`untilQuiet: maxCores must be a number >= 0, got ${String(maxCores)}`);
  const started = deps.now();
  let before = deps.cpuByPid();
  let total = 0;
  for (;;) {
    const left = options.deadlineMs - (deps.now() - started);
    if (left < windowMs) return { quiet: false, waitedMs: deps.now() - started, cpuMs: total };
    const windowStart = deps.now();
    await deps.sleep(windowMs);
    const after = deps.cpuByPid();
    const used = cpuBetween(before, after);
    total += used;
    before = after;
    if (used <= maxCores * (deps.now() - windowStart)) return { quiet: true, waitedMs: deps.now() - started, cpuMs: total };
  }
}

/**
 * CPU used between two readings: what each process present in the second used since the
 * first (all of it for a new process). A process gone by the second reading counts for
 * nothing, so its time cannot hide what the others used.
 */
export function cpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let used = 0;
  for (const [pid, ms] of after) used += Math.max(0, ms - (before.get(pid) ?? 0));
  return used;
}

/**
 * Each process's own CPU time (ms) under `rootPids` (each root and its descendants), from one
 * read of /proc. Own time only: a child's time that its parent took over when it reaped it
 * (`cutime`) would show up as the parent's, all of it in one window.
 */
export function treeCpuByPid(rootPids: readonly number[]): Map<number, number> {
  const procs = listProcs();
  const out = new Map<number, number>();
  for (const root of rootPids) {
    for (const p of [...procs.filter((proc) => proc.pid === root), ...descendantsOf(root, procs)]) {
      out.set(p.pid, ((p.cpuTicks - p.reapedChildTicks) * 1000) / CLOCK_TICKS_PER_SEC);
    }
  }
  return out;
}
