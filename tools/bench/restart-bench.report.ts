// One row of restart-bench.ts per scenario and rate, and the table of rows.
import { readFileSync } from 'node:fs';
import { isFailure, summarize, windowStats, type LagStats, type LoadProcessGc, type LoadProcessReport, type RequestRecord, type RunningNginx } from '@edu-agents/e2e-support';
import type { Marker } from './restart-bench.events';
import type { RestartOutcome, ScenarioDef } from './restart-bench.scenario';

export interface Row {
  scenario: string;
  label: string;
  group: 'single' | 'rolling';
  rate: number;
  requests: number;
  failed: number;
  /** Socket errors by code, non-2xx answers as `HTTP <status>`. */
  failedByKind: Record<string, number>;
  steady: { p50Ms: number; p99Ms: number };
  restart: { p50Ms: number; p99Ms: number; requests: number };
  p99Ratio: number;
  /**
   * 100 ms buckets by scheduled time: the worst bucket p99 of the steady window, the worst of the
   * restart window, and how many restart buckets lie above the worst steady one (0: the switch
   * cannot be told from steady state). `chanceAboveSteady`: how often a restart that changed
   * nothing would still show one or more, with windows this long (`chanceAboveSteady()`).
   */
  buckets?: {
    steadyWorstP99Ms: number; restartWorstP99Ms: number; restartBucketsAboveSteady: number; restartBuckets: number; chanceAboveSteady: number;
    /** The same for the requests other than QC renders: the HTTP path alone. */
    withoutQc: { steadyWorstP99Ms: number; restartWorstP99Ms: number; restartBucketsAboveSteady: number; chanceAboveSteady: number };
  };
  /** Per-process peaks during the restart window (CPU % of a core, event-loop delay ms), from the instruments. */
  instruments?: {
    cpuPeak: Record<string, number>; loopMaxMs: Record<string, number>; runQueueMaxMs: Record<string, number>; file: string;
    /** Mean CPU (% of a core) of the machine's other processes, steady and restart window: a busy neighbour spoils a row. */
    restCpuMean: { steady: number; restart: number };
    /** The hypervisor's steal time, in % of one core: our virtual CPUs given to another guest. */
    stealCpuMean: { steady: number; restart: number };
    /** The busiest of those neighbours during the run. */
    strangers: { pid: number; cpuMs: number; cmd: string }[];
  };
  /** Earlier attempts of this row that were not counted (`spoiled()`). */
  discarded?: { why: string; sendLagP99Ms: number; p99Ratio: number; failed: number }[];
  /** From the restart's start (signal or CLI) to its end (old gone, new ready). */
  restartMs: number;
  /** Of the load process: how late requests left, and its event-loop delay. */
  sendLag: LagStats;
  eventLoopDelay: LagStats;
  /** The load process's own collections (ms since t0): a full one in a window takes CPU from what it measures. */
  loadGc: LoadProcessGc;
  /** p50/p99 per request label in each window: where a tail comes from. */
  byLabel: Record<string, { steady: [number, number]; restart: [number, number] }>;
  oldPids: number[];
  newPids: number[];
  markers: Marker[];
  note: string;
  loadAverage: number[];
  nginx?: NginxEvidence;
  /** With --signal-jitter: the ms added to this row's steady window before the restart. */
  signalDelayMs?: number;
  timeline?: string;
  /** The first failed requests as the load process recorded them (times in ms after t0): the evidence behind `failed`. */
  failures: RequestRecord[];
}

/** What nginx says about a run: its error log by message, and failed requests by upstream outcome. */
export interface NginxEvidence {
  errors: Record<string, number>;
  /** Access-log lines of 5xx answers grouped by `status <- upstream statuses (addresses)`. */
  failedAnswers: Record<string, number>;
}

/** Groups the access log's 5xx lines (log_format `upstreams` of the e2e-support wrapper). */
export function failedAnswers(nginx: RunningNginx): Record<string, number> {
  const groups: Record<string, number> = {};
  let text = '';
  try {
    text = readFileSync(nginx.files.accessLog, 'utf8');
  } catch {
    return groups;
  }
  for (const line of text.split('\n')) {
    const m = /^\S+ (5\d\d) "(\S+) (\S+)[^"]*" rt=(\S+) ua="([^"]*)" us="([^"]*)"/.exec(line);
    if (!m) continue;
    const key = `${m[1]} ${m[2]} ${m[3].replace(/\?.*/, '')} <- us=${m[6]}`;
    groups[key] = (groups[key] ?? 0) + 1;
  }
  return groups;
}

const ms = (epoch: number, t0Epoch: number) => epoch - t0Epoch;

/**
 * Why a row does not count, or undefined: the load's own sender lagged more than `lagMs` at p99
 * (its latencies then describe the host), the machine's other processes used more than
 * `restCpu` % of a core on average, or the hypervisor took more than `stealCpu` % of one
 * (/proc/stat's steal), in the steady window or the restart's.
 */
export function spoiled(row: Pick<Row, 'sendLag' | 'instruments'>, limits: { lagMs: number; restCpu: number; stealCpu: number }): string | undefined {
  if (row.sendLag.p99Ms > limits.lagMs) return `send lag p99 ${row.sendLag.p99Ms} ms > ${limits.lagMs} ms`;
  const rest = row.instruments?.restCpuMean;
  if (rest && Math.max(rest.steady, rest.restart) > limits.restCpu) {
    const who = row.instruments?.strangers[0];
    return `other processes used ${Math.max(rest.steady, rest.restart)} % of a core (> ${limits.restCpu} %${who ? `; busiest: pid ${who.pid} ${who.cmd.slice(0, 60)}` : ''})`;
  }
  const steal = row.instruments?.stealCpuMean;
  if (steal && Math.max(steal.steady, steal.restart) > limits.stealCpu) {
    return `the hypervisor took ${Math.max(steal.steady, steal.restart)} % of a core (steal: ${steal.steady} % steady, ${steal.restart} % in the restart; > ${limits.stealCpu} %)`;
  }
  return undefined;
}

/**
 * The row of one run: windows by scheduled time, steady from `steadyFromMs` (after the warm-up) to
 * the restart, restart to its end. Failures count over the whole run, warm-up included.
 */
export function makeRow(def: ScenarioDef, rate: number, load: LoadProcessReport, outcome: RestartOutcome, markers: Marker[], loadAverage: number[], steadyFromMs: number): Row {
  const { run } = load;
  const from = ms(outcome.startAt, run.t0Epoch);
  const to = ms(outcome.endAt, run.t0Epoch);
  const s = summarize(run, [{ name: 'steady', fromMs: steadyFromMs, toMs: from }, { name: 'restart', fromMs: from, toMs: to }]);
  const failedByKind: Record<string, number> = { ...s.all.byError };
  for (const r of run.records.filter((x) => isFailure(x) && x.error === undefined)) failedByKind[`HTTP ${r.status}`] = (failedByKind[`HTTP ${r.status}`] ?? 0) + 1;
  const [steady, restart] = s.windows;
  const byLabel: Row['byLabel'] = {};
  for (const label of Object.keys(s.byLabel)) {
    const inWindow = (a: number, b: number) => windowStats(label, run.records.filter((r) => r.label === label && r.scheduledMs >= a && r.scheduledMs < b));
    const a = inWindow(steadyFromMs, from);
    const b = inWindow(from, to);
    byLabel[label] = { steady: [a.p50Ms, a.p99Ms], restart: [b.p50Ms, b.p99Ms] };
  }
  return {
    scenario: def.name, label: def.label, group: def.group, rate, requests: s.outcomes, failed: s.all.failed, failedByKind,
    steady: { p50Ms: steady.p50Ms, p99Ms: steady.p99Ms }, restart: { p50Ms: restart.p50Ms, p99Ms: restart.p99Ms, requests: restart.requests },
    p99Ratio: Math.round((restart.p99Ms / Math.max(steady.p99Ms, 0.1)) * 100) / 100, restartMs: Math.round(to - from),
    sendLag: load.sendLag, eventLoopDelay: load.eventLoopDelay, loadGc: load.gc, byLabel,
    oldPids: outcome.oldPids, newPids: outcome.newPids, markers, note: outcome.note, loadAverage,
    failures: run.records.filter(isFailure).slice(0, 100),
  };
}

/** ` (chance N %)`: how often a restart that changed nothing shows a bucket above steady; absent in older results. */
const byChance = (p: number | undefined) => (p === undefined ? '' : ` (chance ${Math.round(p * 100)} %)`);

/** The readable table (markdown). */
export function markdown(rows: readonly Row[]): string {
  const kinds = (k: Record<string, number>) => Object.entries(k).map(([kind, n]) => `${kind}: ${n}`).join(', ') || '-';
  return [
    '| scenario | req/s | requests | failed | failed by kind | steady p50 / p99 (ms) | restart p50 / p99 (ms) | p99 restart/steady | worst 100 ms p99 steady / restart (ms) | restart buckets above steady (chance with no effect) | the same without QC renders | restart took (s) | send lag p99 / max (ms) | load avg |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label}${r.note.startsWith('RESTART FAILED') || r.note.includes('RESTART FAILED') ? ' (restart failed)' : ''} | ${r.rate} | ${r.requests} | ${r.failed} | ${kinds(r.failedByKind)} | ` +
      `${r.steady.p50Ms} / ${r.steady.p99Ms} | ${r.restart.p50Ms} / ${r.restart.p99Ms} | ${r.p99Ratio} | ` +
      `${r.buckets ? `${r.buckets.steadyWorstP99Ms} / ${r.buckets.restartWorstP99Ms}` : '-'} | ${r.buckets ? `${r.buckets.restartBucketsAboveSteady} of ${r.buckets.restartBuckets}${byChance(r.buckets.chanceAboveSteady)}` : '-'} | ` +
      `${r.buckets ? `${r.buckets.withoutQc.steadyWorstP99Ms} / ${r.buckets.withoutQc.restartWorstP99Ms}, ${r.buckets.withoutQc.restartBucketsAboveSteady} above${byChance(r.buckets.withoutQc.chanceAboveSteady)}` : '-'} | ${(r.restartMs / 1_000).toFixed(1)} | ` +
      `${r.sendLag.p99Ms} / ${r.sendLag.maxMs} | ${r.loadAverage[0]?.toFixed(1) ?? '-'} |`),
  ].join('\n');
}
