import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { QcPoolStats } from '@edu-agents/qc-chrome-pool';
import type { ApiRuntime } from '../runtime/api-runtime';

export interface MetricsRegistry {
  registry: Registry;
}

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

const PHASES = ['starting', 'ready', 'draining', 'stopped'] as const;

/**
 * Prometheus metrics, read at scrape time (no timers): process defaults,
 * shutdown phase and in-flight work, and the QC pool's statistics.
 */
export function createMetricsRegistry(runtime: ApiRuntime): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edu_agents_' });
  const snapshot = () => runtime.coordinator.snapshot();

  new Gauge({
    name: 'edu_agents_shutdown_phase',
    help: 'Current shutdown phase (1 for the current phase, 0 for the others).',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const phase = snapshot().phase;
      for (const p of PHASES) this.set({ phase: p }, p === phase ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edu_agents_http_in_flight_requests',
    help: 'Requests being served (health checks excluded).',
    registers: [registry],
    collect() {
      this.set(snapshot().inFlight);
    },
  });
  const pool = runtime.qc;
  if (pool) registerPoolMetrics(registry, () => pool.stats());
  return { registry };
}

type StatReader = (s: QcPoolStats) => number;

function registerPoolMetrics(registry: Registry, stats: () => QcPoolStats): void {
  const gauges: Record<string, [string, StatReader]> = {
    edu_agents_qc_browsers: ['Browsers running.', (s) => s.browsers],
    edu_agents_qc_slots_busy: ['Job slots running a job.', (s) => s.slots.busy],
    edu_agents_qc_slots_idle: ['Job slots free.', (s) => s.slots.idle],
    edu_agents_qc_queue_length: ['Jobs waiting for a slot.', (s) => s.queueLength],
    edu_agents_qc_render_ms_p50: ['Median render time of recent jobs (ms).', (s) => s.renderMs.p50],
    edu_agents_qc_render_ms_p95: ['95th percentile render time of recent jobs (ms).', (s) => s.renderMs.p95],
    edu_agents_qc_cache_entries: ['Cached QC results.', (s) => s.cache.entries],
    edu_agents_qc_cache_bytes: ['Bytes held by the QC result cache.', (s) => s.cache.bytes],
  };
  for (const [name, [help, read]] of Object.entries(gauges)) {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read(stats())); } });
  }
  const counters: Record<string, [string, StatReader]> = {
    edu_agents_qc_jobs_done_total: ['QC jobs finished.', (s) => s.jobs.done],
    edu_agents_qc_jobs_failed_total: ['QC jobs failed.', (s) => s.jobs.failed],
    edu_agents_qc_jobs_timed_out_total: ['QC renders cut because every caller timed out.', (s) => s.jobs.timedOut],
    edu_agents_qc_jobs_cancelled_total: ['QC renders stopped because every caller went away.', (s) => s.jobs.cancelled],
    edu_agents_qc_jobs_rejected_total: ['QC renders refused (full queue, no slot in time, closing).', (s) => s.jobs.rejected],
    edu_agents_qc_cache_hits_total: ['QC result cache hits.', (s) => s.cache.hits],
    edu_agents_qc_cache_misses_total: ['QC result cache misses.', (s) => s.cache.misses],
    edu_agents_qc_cache_coalesced_total: ['QC requests served by a render another request had started (single flight).', (s) => s.cache.coalesced],
    edu_agents_qc_browser_restarts_total: ['Browsers replaced after a crash or disconnect.', (s) => s.browserRestarts],
    edu_agents_qc_browser_recycles_total: ['Browsers retired by age or job count.', (s) => s.browserRecycles],
  };
  for (const [name, [help, read]] of Object.entries(counters)) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The pool keeps the totals; mirror them into the counter.
        this.reset();
        this.inc(read(stats()));
      },
    });
  }
}
