#!/usr/bin/env node
// What the successor was doing while each of the old process's QC renders ran. For each one-instance
// handoff row of restart-bench runs kept with --requests and --keep-logs, the successor's own log lines
// between the signal and its ready cut its start into phases, each named by the line that ends it
// (the first, from the signal to the successor's first line, is node loading its modules). Each render
// the old process answered in that time is listed with the phase it was sent in, its latency, and the
// row's steady render median (restart-bench's byLabel). So is each render sent from the ready to the
// old process's exit (the end of the row's requests window), by whichever process answered it, in one
// more phase, "the switch", or in "the retirement" when it ran past the old process's first
// `handed over: retiring` line. Rolling rows are left out: their log holds several starts at once.
//
//   node tools/bench/renders-by-start-phase.mjs tools/bench/results/restart-<stamp> [more result dirs]
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { benchRowsOf, isHandoffRow, isQcRender, requestsFileOf, scenarioOf } from './results-dir.mjs';

/** The JSON lines of an API log (other lines, e.g. a stack trace, are skipped). */
export function parseLog(text) {
  return text.split('\n').filter((line) => line.startsWith('{')).flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

/**
 * The successor's start as phases in ms from its ready: from `signalMs` to its first line, then from
 * each of its lines to the next, up to its `phase ready` line; each named by the line that ends it.
 * Lines from before the signal (the old process's own Chrome start) fall outside.
 */
export function startPhases(lines, successorPid, signalMs) {
  // The pool logs its Chrome's start with Chrome's pid in the line: in a start, only the successor's is new.
  const own = lines.filter((l) => typeof l.time === 'string' && (l.pid === successorPid || (l.msg?.startsWith('qc: Chrome started') && l.pid !== undefined)));
  const ready = own.find((l) => l.msg === 'phase ready');
  if (!ready) throw new Error(`no 'phase ready' line of the successor ${successorPid} in the log`);
  const zero = Date.parse(ready.time);
  // Named without what varies from run to run: "qc: Chrome started (pid 123) at nice 19: ..." is "qc: Chrome started".
  const ends = own.map((l) => ({ ms: Date.parse(l.time) - zero, msg: String(l.msg).replace(/ \(pid \d+\).*$/, '') })).filter((l) => l.ms > signalMs && l.ms <= 0);
  const phases = [];
  let from = signalMs;
  for (const end of ends) {
    if (end.ms > from) phases.push({ fromMs: from, toMs: end.ms, until: end.msg });
    from = Math.max(from, end.ms);
  }
  return phases;
}

/** The phase of the renders sent from the successor's ready to the old process's exit (that end before it retires, when that is known). */
export const SWITCH_PHASE = "the switch (ready to the old process's exit)";
/** The phase of the renders of the switch that run while the old process retires (its pool's close and its exit). */
export const RETIRE_PHASE = "the retirement (the old process retires to its exit)";

/**
 * When the old process began to retire (its first `handed over: retiring` line, or its offer of its
 * Chromium, whichever comes first), in ms from the successor's `phase ready`; undefined when neither is there.
 */
export function retireMsOf(lines, successorPid) {
  const ready = lines.find((l) => l.pid === successorPid && l.msg === 'phase ready');
  // With HANDOFF_RETIRE_IDLE=false there is no retiring line: its offer of its Chromium to the successor comes first then.
  const retire = lines.find((l) => l.pid !== successorPid && typeof l.msg === 'string' && /^handed over: (retiring|the successor may stop)/.test(l.msg));
  return ready && retire ? Date.parse(retire.time) - Date.parse(ready.time) : undefined;
}

/**
 * The renders the predecessor answered between `signalMs` and the ready, each with the phase it was
 * sent in, then those sent from the ready up to `switchEndMs`, answered by either process: in
 * {@link RETIRE_PHASE} when they ran past `retireMs`, else in {@link SWITCH_PHASE}.
 */
export function rendersByPhase(phases, requests, signalMs, switchEndMs = 0, retireMs = switchEndMs) {
  const render = (r, phase) => ({ sentMs: Math.round(r.sentMs), latencyMs: Math.round(r.latencyMs), by: String(r.by ?? '-').split(' ')[0], phase });
  const start = requests
    .filter((r) => isQcRender(r) && r.by?.startsWith('predecessor') && r.sentMs >= signalMs && r.sentMs < 0)
    .map((r) => render(r, phases.find((p) => r.sentMs >= p.fromMs && r.sentMs < p.toMs)?.until ?? '-'));
  const atSwitch = requests
    .filter((r) => isQcRender(r) && r.sentMs >= 0 && r.sentMs < switchEndMs)
    .map((r) => render(r, r.sentMs + r.latencyMs > retireMs ? RETIRE_PHASE : SWITCH_PHASE));
  return [...start, ...atSwitch];
}

const median = (values) => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round2 = (x) => (x === undefined ? undefined : Math.round(x * 100) / 100);

/**
 * Per variant (a row's `variant`: the tag after `@` of its scenario, or `default`), over its rows: each phase's median length, its renders and their median latency as a
 * multiple of their row's steady median; and the same for the whole start (signal to ready).
 */
export function summarizeByVariant(results) {
  const byVariant = new Map();
  for (const r of results) {
    if (!byVariant.has(r.variant)) byVariant.set(r.variant, []);
    byVariant.get(r.variant).push(r);
  }
  return [...byVariant].map(([variant, rows]) => {
    const ratio = (row, x) => (row.steadyRenderMedianMs ? x.latencyMs / row.steadyRenderMedianMs : undefined);
    // A line that names a pid ("prepared the next successor's process 1859") is one phase in every row.
    const named = (until) => until.replace(/\d+/g, 'N');
    const names = [...new Set(rows.flatMap((row) => row.phases.map((p) => named(p.until))))];
    const phases = names.map((until) => {
      const lengths = rows.flatMap((row) => row.phases.filter((p) => named(p.until) === until).map((p) => p.toMs - p.fromMs));
      const ratios = rows.flatMap((row) => row.renders.filter((x) => named(x.phase) === until).map((x) => ratio(row, x)).filter((x) => x !== undefined));
      return { until, medianMs: median(lengths), renders: ratios.length, medianRatio: round2(median(ratios)) };
    });
    const starts = rows.map((row) => (row.phases.length ? row.phases.at(-1).toMs - row.phases[0].fromMs : undefined)).filter((x) => x !== undefined);
    const ratios = (keep) => rows.flatMap((row) => row.renders.filter((x) => keep(x.phase)).map((x) => ratio(row, x)).filter((x) => x !== undefined));
    const all = ratios((phase) => phase !== SWITCH_PHASE && phase !== RETIRE_PHASE);
    const of = (values, lengths) => ({ medianMs: median(lengths), renders: values.length, medianRatio: round2(median(values)), maxRatio: round2(values.length ? Math.max(...values) : undefined) });
    const switches = rows.map((row) => row.switchMs).filter((x) => x !== undefined);
    const retirements = rows.filter((row) => row.retireMs !== undefined && row.switchMs !== undefined).map((row) => row.switchMs - row.retireMs);
    const retiring = ratios((phase) => phase === RETIRE_PHASE);
    return {
      variant, rows: rows.length, startMedianMs: median(starts), renders: all.length, medianRatio: round2(median(all)), phases,
      switch: of(ratios((phase) => phase === SWITCH_PHASE), switches),
      ...(retiring.length > 0 || retirements.length > 0 ? { retirement: of(retiring, retirements) } : {}),
    };
  });
}

function analyseDir(dir) {
  const out = [];
  for (const row of benchRowsOf(dir)) {
    const readies = (row.markers ?? []).filter((m) => m.label.startsWith('successor ready'));
    if (!isHandoffRow(row) || readies.length !== 1 || row.newPids?.length !== 1) continue;
    const requestsFile = requestsFileOf(row);
    const name = basename(row.timeline ?? '', '.svg');
    const logFile = join(dir, 'logs', name, 'api.log');
    if (!requestsFile || !existsSync(logFile)) {
      process.stderr.write(`${basename(dir)} ${name}: skipped, it needs the run's --requests and --keep-logs\n`);
      continue;
    }
    const signal = row.markers.find((m) => m.kind === 'signal');
    const signalMs = Math.round(signal.ms - readies[0].ms);
    const lines = parseLog(readFileSync(logFile, 'utf8'));
    const phases = startPhases(lines, row.newPids[0], signalMs);
    // The requests window ends where the old process exited (restart-bench.requests.ts).
    const exit = row.markers.find((m) => m.kind === 'exit');
    const switchMs = exit ? Math.round(exit.ms - readies[0].ms) : 0;
    const retireMs = retireMsOf(lines, row.newPids[0]);
    const renders = rendersByPhase(phases, JSON.parse(readFileSync(requestsFile, 'utf8')).requests, signalMs, switchMs, retireMs ?? switchMs);
    const { tag } = scenarioOf(row);
    out.push({ run: basename(dir), row: name, variant: tag === '-' ? 'default' : tag, rate: row.rate, steadyRenderMedianMs: row.byLabel?.['POST /qc/check']?.steady?.[0], phases, switchMs, ...(retireMs === undefined ? {} : { retireMs }), renders });
  }
  return out;
}

function main(argv) {
  if (argv.length === 0) throw new Error('usage: renders-by-start-phase.mjs <restart-bench result dir> [more]');
  const results = argv.flatMap(analyseDir);
  const table = ['| run | row | render sent (ms from ready) | latency (ms) | steady median (ms) | answered by | the successor was busy until |', '|---|---|---:|---:|---:|---|---|'];
  for (const r of results) for (const x of r.renders) table.push(`| ${r.run} | ${r.row} | ${x.sentMs} | ${x.latencyMs} | ${r.steadyRenderMedianMs ?? '-'} | ${x.by} | ${x.phase} |`);
  const summary = summarizeByVariant(results);
  const fmt = (x) => (x === undefined ? '-' : String(x));
  table.push('', '| variant | phase (ends at the line) | median length (ms) | renders | median latency / steady median |', '|---|---|---:|---:|---:|');
  for (const v of summary) {
    for (const p of v.phases) table.push(`| ${v.variant} | ${p.until} | ${fmt(p.medianMs)} | ${p.renders} | ${fmt(p.medianRatio)} |`);
    table.push(`| ${v.variant} | **the whole start, ${v.rows} rows** | ${fmt(v.startMedianMs)} | ${v.renders} | ${fmt(v.medianRatio)} |`);
    table.push(`| ${v.variant} | **${SWITCH_PHASE}** (the worst: ${fmt(v.switch.maxRatio)}) | ${fmt(v.switch.medianMs)} | ${v.switch.renders} | ${fmt(v.switch.medianRatio)} |`);
    if (v.retirement) table.push(`| ${v.variant} | **${RETIRE_PHASE}** (the worst: ${fmt(v.retirement.maxRatio)}) | ${fmt(v.retirement.medianMs)} | ${v.retirement.renders} | ${fmt(v.retirement.medianRatio)} |`);
  }
  process.stderr.write(`${table.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ rows: results, byVariant: summary }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`renders-by-start-phase: ${error.message}`);
    process.exit(2);
  }
}
