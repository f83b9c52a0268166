import type { ChromePriority } from './chrome-priority';

/** Snapshot of the pool for /qc-stats and metrics. */
export interface QcPoolStats {
  browsers: number;
  slots: { busy: number; idle: number; total: number };
  queueLength: number;
  /**
   * Renders (a render shared by coalesced callers counts once): finished, failed, cut because every
   * caller timed out, stopped because every caller went away, refused (full queue, acquire timeout, close).
   */
  jobs: { done: number; failed: number; timedOut: number; cancelled: number; rejected: number };
  renderMs: { p50: number; p95: number; samples: number };
  /** `coalesced`: callers served by a render another caller had started (single flight). */
  cache: { hits: number; misses: number; coalesced: number; entries: number; bytes: number };
  browserRestarts: number;
  browserRecycles: number;
  pageRecycles: number;
  uptimeMs: number;
  /** Chrome main pids with their profile dirs (for operators and leak checks) and the priority they run at. */
  browserProcesses: { pid: number; profileDir: string; priority: ChromePriority }[];
}

/** Counters and a bounded window of render times. */
export class PoolCounters {
  done = 0;
  failed = 0;
  timedOut = 0;
  rejected = 0;
  cancelled = 0;
  coalesced = 0;
  browserRestarts = 0;
  browserRecycles = 0;
  pageRecycles = 0;
  private readonly renderTimes: number[] = [];

  constructor(private readonly window = 1000) {}

  jobs(): QcPoolStats['jobs'] {
    return { done: this.done, failed: this.failed, timedOut: this.timedOut, cancelled: this.cancelled, rejected: this.rejected };
  }

  recordRender(ms: number): void {
    this.renderTimes.push(ms);
    if (this.renderTimes.length > this.window) this.renderTimes.shift();
  }

  percentiles(): QcPoolStats['renderMs'] {
    const sorted = [...this.renderTimes].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), samples: sorted.length };
  }
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
