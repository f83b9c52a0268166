/** Snapshot of the pool for /qc-stats and metrics. */
export interface QcPoolStats {
  browsers: number;
  slots: { busy: number; idle: number; total: number };
  queueLength: number;
  jobs: { done: number; failed: number; timedOut: number; rejected: number };
  renderMs: { p50: number; p95: number; samples: number };
  cache: { hits: number; misses: number; entries: number; bytes: number };
  browserRestarts: number;
  browserRecycles: number;
  pageRecycles: number;
  uptimeMs: number;
  /** Chrome main pids with their profile dirs (for operators and leak checks). */
  browserProcesses: { pid: number; profileDir: string }[];
}

/** Counters and a bounded window of render times. */
export class PoolCounters {
  done = 0;
  failed = 0;
  timedOut = 0;
  rejected = 0;
  browserRestarts = 0;
  browserRecycles = 0;
  pageRecycles = 0;
  private readonly renderTimes: number[] = [];

  constructor(private readonly window = 1000) {}

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
