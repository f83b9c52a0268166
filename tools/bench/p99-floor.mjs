#!/usr/bin/env node
// What the p99 ratio scores with no restart at all, over a window as long as a restart. For each
// control row of restart-bench runs kept with --requests (its 4 s "restart" window in which nothing
// happens), the p99 of every stretch as long as each handoff row of the same run, rate and tag (the
// variant or load placement after `@`) took (sliding by --step-ms), requests timed from when they
// were due, against the control row's steady p99: the ratio a switch that nobody can
// feel would score there. A short window takes its p99 deeper into the tail than the steady
// window's 5 s (at 500 req/s, the 13th slowest of 1,250 requests against the 25th of 2,500), and
// one stall of the process or the host that delays a dozen requests then decides it.
//
//   node tools/bench/p99-floor.mjs tools/bench/results/restart-<stamp> [more result dirs] [--limit 1.5] [--step-ms 250]
//
// Prints a table, then the same as JSON.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRowsOf, isHandoffRow, requestsFileOf, scenarioOf } from './results-dir.mjs';

/** The q-quantile of ascending `sorted` by the nearest rank, as restart-bench takes it (load-report.ts). */
export function nearestRank(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * The p99 of every stretch of `lengthMs` inside `window` (sent times, ms), starting every `stepMs`,
 * divided by `steadyP99Ms`. Empty when the window is shorter than the stretch.
 */
export function stretchRatios(requests, window, lengthMs, steadyP99Ms, stepMs = 250) {
  if (!(steadyP99Ms > 0)) throw new Error(`the steady p99 must be a positive number of ms (got ${steadyP99Ms})`);
  if (!(lengthMs > 0) || !(stepMs > 0)) throw new Error(`the stretch and the step must be positive (got ${lengthMs} and ${stepMs} ms)`);
  const ratios = [];
  for (let from = window.fromMs; from + lengthMs <= window.toMs; from += stepMs) {
    // From when each request was due, as the bench's p99 counts it (files before its send lag was kept have none).
    const latencies = requests.filter((r) => r.sentMs >= from && r.sentMs < from + lengthMs).map((r) => r.latencyMs + (r.lagMs ?? 0)).sort((a, b) => a - b);
    if (latencies.length > 0) ratios.push(Math.round((nearestRank(latencies, 0.99) / steadyP99Ms) * 100) / 100);
  }
  return ratios;
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { limit: { type: 'string', default: '1.5' }, 'step-ms': { type: 'string', default: '250' } } });
  if (positionals.length === 0) throw new Error('usage: p99-floor.mjs RESULT_DIR [RESULT_DIR ...] [--limit 1.5] [--step-ms 250] (runs of restart-bench with --requests and a control row)');
  const limit = Number(values.limit);
  const stepMs = Number(values['step-ms']);
  const out = [];
  for (const dir of positionals) {
    const rows = benchRowsOf(dir);
    for (const control of rows.filter((row) => scenarioOf(row).base === 'control')) {
      const requestsFile = requestsFileOf(control);
      if (!requestsFile) continue;
      const { window, requests } = JSON.parse(readFileSync(requestsFile, 'utf8'));
      // A control of a variant (or load placement) stands for the handoff rows of the same one.
      const tag = scenarioOf(control).tag;
      for (const row of rows.filter((r) => isHandoffRow(r) && r.rate === control.rate && scenarioOf(r).tag === tag)) {
        const ratios = stretchRatios(requests, window, row.restartMs, control.steady.p99Ms, stepMs);
        if (ratios.length === 0) continue; // a restart longer than the control's window
        const sorted = [...ratios].sort((a, b) => a - b);
        out.push({
          run: basename(dir), rate: control.rate, like: row.label, lengthMs: row.restartMs, restartRatio: row.p99Ratio,
          controlSteadyP99Ms: control.steady.p99Ms, stretches: ratios.length, median: nearestRank(sorted, 0.5), max: sorted.at(-1), aboveLimit: ratios.filter((r) => r > limit).length,
        });
      }
    }
  }
  if (out.length === 0) throw new Error('no control row with a requests file and a handoff row as short as its window: run restart-bench with --only control,handoff --requests');
  console.log(`| run | req/s | a window as long as | ms | that row's ratio | control's steady p99 (ms) | stretches | no-restart ratio median / max | above ${limit} |`);
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const o of out) console.log(`| ${o.run} | ${o.rate} | ${o.like} | ${o.lengthMs} | ${o.restartRatio} | ${o.controlSteadyP99Ms} | ${o.stretches} | ${o.median} / ${o.max} | ${o.aboveLimit} |`);
  const all = out.reduce((sum, o) => ({ stretches: sum.stretches + o.stretches, above: sum.above + o.aboveLimit }), { stretches: 0, above: 0 });
  console.log(`\nno restart, over ${all.stretches} stretches: ${all.above} above ${limit}`);
  console.log(JSON.stringify({ limit, stepMs, rows: out, total: all }, null, 2));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`p99-floor: ${error.message}\n`);
    process.exit(2);
  }
}
