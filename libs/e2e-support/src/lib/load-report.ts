import type { LoadRun, RequestRecord } from './load-generator';

/** A stretch of the run by scheduled time, e.g. "steady" or "restart" (ms after t0, `to` excluded). */
export interface LoadWindow {
  name: string;
  fromMs: number;
  toMs: number;
}

export interface WindowStats {
  name: string;
  requests: number;
  /** Answers by HTTP status, e.g. { "200": 1234 }. */
  byStatus: Record<string, number>;
  /** Socket and generator errors by code, e.g. { ECONNRESET: 2 }. */
  byError: Record<string, number>;
  /** Requests without a 2xx answer: errors plus non-2xx statuses. */
  failed: number;
  /** Latency from the scheduled time to the end of the answer. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Worst delay between a request's scheduled time and its start (generator health). */
  maxSendLagMs: number;
}

export interface LoadSummary {
  ratePerSec: number;
  scheduled: number;
  outcomes: number;
  duplicateOutcomes: number;
  clientsCreated: number;
  overflowPicks: number;
  exhaustedPicks: number;
  connectionsOpened: number;
  all: WindowStats;
  windows: WindowStats[];
  byLabel: Record<string, { requests: number; failed: number; p50Ms: number; p99Ms: number }>;
}

/** p50, p99 and max of a set of delays in ms. */
export interface LagStats {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** {@link LagStats} of unsorted `values`. */
export function lagStats(values: readonly number[]): LagStats {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50Ms: round(percentile(sorted, 0.5)), p99Ms: round(percentile(sorted, 0.99)), maxMs: round(sorted.at(-1) ?? 0) };
}

/** The generator's send lag: how late each request left after its scheduled time. */
export function sendLag(records: readonly RequestRecord[]): LagStats {
  return lagStats(records.map((r) => r.startMs - r.scheduledMs));
}

/** The q-quantile (0..1) of ascending `sorted` by the nearest-rank method; 0 when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const isFailure = (r: RequestRecord): boolean => r.error !== undefined || r.status === undefined || r.status < 200 || r.status > 299;

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Counts and latency of the records. */
export function windowStats(name: string, records: readonly RequestRecord[]): WindowStats {
  const byStatus: Record<string, number> = {};
  const byError: Record<string, number> = {};
  const latencies: number[] = [];
  let maxSendLagMs = 0;
  for (const r of records) {
    if (r.error !== undefined) byError[r.error] = (byError[r.error] ?? 0) + 1;
    else byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
    latencies.push(r.endMs - r.scheduledMs);
    maxSendLagMs = Math.max(maxSendLagMs, r.startMs - r.scheduledMs);
  }
  latencies.sort((a, b) => a - b);
  return {
    name, requests: records.length, byStatus, byError, failed: records.filter(isFailure).length,
    p50Ms: round(percentile(latencies, 0.5)), p99Ms: round(percentile(latencies, 0.99)), maxMs: round(latencies.at(-1) ?? 0),
    maxSendLagMs: round(maxSendLagMs),
  };
}

/** The whole run, each window (by scheduled time) and each request label. */
export function summarize(run: LoadRun, windows: readonly LoadWindow[] = []): LoadSummary {
  const byLabel: LoadSummary['byLabel'] = {};
  for (const label of new Set(run.records.map((r) => r.label))) {
    const s = windowStats(label, run.records.filter((r) => r.label === label));
    byLabel[label] = { requests: s.requests, failed: s.failed, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
  }
  return {
    ratePerSec: run.ratePerSec, scheduled: run.scheduled, outcomes: run.records.length, duplicateOutcomes: run.duplicateOutcomes,
    clientsCreated: run.clientsCreated, overflowPicks: run.overflowPicks, exhaustedPicks: run.exhaustedPicks, connectionsOpened: run.connectionsOpened,
    all: windowStats('all', run.records),
    windows: windows.map((w) => windowStats(w.name, run.records.filter((r) => r.scheduledMs >= w.fromMs && r.scheduledMs < w.toMs))),
    byLabel,
  };
}

/** Indices in 0..scheduled-1 with no record or with more than one (must be empty). */
export function outcomeGaps(run: LoadRun): { missing: number[]; repeated: number[] } {
  const seen = new Map<number, number>();
  for (const r of run.records) seen.set(r.index, (seen.get(r.index) ?? 0) + 1);
  const missing: number[] = [];
  for (let i = 0; i < run.scheduled; i++) if (!seen.has(i)) missing.push(i);
  return { missing, repeated: [...seen].filter(([, n]) => n > 1).map(([i]) => i) };
}

/** A few plain lines for test output. */
export function formatSummary(title: string, s: LoadSummary): string {
  const line = (w: WindowStats) =>
    `  ${w.name.padEnd(10)} ${String(w.requests).padStart(6)} req  status ${JSON.stringify(w.byStatus)}  errors ${JSON.stringify(w.byError)}  ` +
    `failed ${w.failed}  p50 ${w.p50Ms} ms  p99 ${w.p99Ms} ms  max ${w.maxMs} ms  send lag max ${w.maxSendLagMs} ms`;
  return [
    `${title}: ${s.scheduled} scheduled at ${s.ratePerSec}/s, ${s.outcomes} outcomes, ${s.connectionsOpened} connections, ` +
      `${s.clientsCreated} clients (${s.overflowPicks} overflow picks, ${s.exhaustedPicks} with every client busy)`,
    line(s.all),
    ...s.windows.map(line),
    ...Object.entries(s.byLabel).map(([label, l]) => `  ${label}: ${l.requests} req, failed ${l.failed}, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms`),
  ].join('\n');
}
