#!/usr/bin/env node
// The QC renders of each one-instance handoff row (any variant) by when they ran against the old
// process's retirement: its start (the signal to the successor's ready), after the ready until the
// retirement (HANDOFF_RETIRE_AFTER_MS after the ready, less 50 ms), the retirement itself (from
// then to the old process's exit), and the second after that exit. A render counts in a phase it
// overlapped (sent before the phase ended, answered after it began); the first phase takes the
// renders sent from 200 ms before the signal. Each latency is divided by its row's steady median
// render, and the table is per variant (the `@` tag of the row's scenario) and phase.
//
//   node tools/bench/renders-by-retirement.mjs tools/bench/results/restart-<stamp> [more] [--retire-after 1500] [--limit 1.4] [--after-ready 100]
//
// --after-ready <ms>: a second table, of the renders sent in the first three spans of that many ms
// after the ready (where a successor that took over its predecessor's Chromium renders first).
//
// Needs runs kept with --requests. Prints a table, then the same as JSON.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchRowsOf, isQcRender, requestsFileOf, scenarioOf } from './results-dir.mjs';

const RENDER = 'POST /qc/check';
export const PHASES = ['start', 'after ready', 'retirement', 'after exit'];

/**
 * The phases each render of one row overlapped, with its latency over `steadyMedianMs`. `markers`:
 * the row's markers; `zero`: the label the request times count from; `retireAfterMs`: when the
 * retirement begins, after the ready.
 */
export function rendersByPhase(requests, markers, zero, steadyMedianMs, retireAfterMs = 1500) {
  if (!(steadyMedianMs > 0)) throw new Error(`the steady median render must be a positive number of ms (got ${steadyMedianMs})`);
  const at = (label) => {
    const marker = markers.find((m) => m.label === label);
    if (!marker) throw new Error(`the row has no '${label}' marker (a one-instance handoff row is needed)`);
    return marker.ms;
  };
  const origin = at(zero);
  const signal = at('signal') - origin;
  const ready = at('successor ready') - origin;
  const exit = at('predecessor exit') - origin;
  const retire = ready + retireAfterMs - 50;
  const windows = [['start', signal, ready], ['after ready', ready, retire], ['retirement', retire, exit], ['after exit', exit, exit + 1000]];
  const out = [];
  for (const r of requests) {
    if (!isQcRender(r) || r.sentMs < signal - 200) continue;
    const end = r.sentMs + r.latencyMs;
    for (const [phase, from, to] of windows) {
      if (r.sentMs <= to && end >= from) out.push({ phase, ratio: r.latencyMs / steadyMedianMs });
    }
  }
  return out;
}

/**
 * The renders of one row sent in the first `spans` spans of `spanMs` after the successor's ready,
 * each with the span it was sent in (ms from the ready to the span's start) and its latency over
 * `steadyMedianMs`.
 */
export function rendersAfterReady(requests, markers, zero, steadyMedianMs, spanMs, spans = 3) {
  if (!(spanMs > 0)) throw new Error(`the span must be a positive number of ms (got ${spanMs})`);
  const origin = markers.find((m) => m.label === zero)?.ms;
  const ready = markers.find((m) => m.label === 'successor ready')?.ms;
  if (origin === undefined || ready === undefined) throw new Error("the row has no 'successor ready' marker (a one-instance handoff row is needed)");
  const out = [];
  for (const r of requests) {
    const from = r.sentMs - (ready - origin);
    if (!isQcRender(r) || from < 0 || from >= spanMs * spans) continue;
    out.push({ span: Math.floor(from / spanMs) * spanMs, ratio: r.latencyMs / steadyMedianMs });
  }
  return out;
}

/** Count, median, 90th percentile, max and how many above `limit`, of `ratios`. */
export function summarize(ratios, limit) {
  const sorted = [...ratios].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const round = (x) => Math.round(x * 100) / 100;
  return { renders: sorted.length, median: round(q(0.5)), p90: round(q(0.9)), max: round(sorted.at(-1)), above: sorted.filter((x) => x > limit).length };
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'retire-after': { type: 'string', default: '1500' }, limit: { type: 'string', default: '1.4' }, 'after-ready': { type: 'string' } } });
  if (positionals.length === 0) throw new Error('usage: renders-by-retirement.mjs RESULT_DIR [RESULT_DIR ...] [--retire-after 1500] [--limit 1.4] (runs of restart-bench kept with --requests)');
  const retireAfterMs = Number(values['retire-after']);
  const limit = Number(values.limit);
  const spanMs = values['after-ready'] === undefined ? undefined : Number(values['after-ready']);
  const groups = new Map();
  const spans = new Map();
  for (const dir of positionals) {
    for (const row of benchRowsOf(dir)) {
      const { base, tag } = scenarioOf(row);
      const file = requestsFileOf(row);
      const medianMs = row.byLabel?.[RENDER]?.steady?.[0];
      if (base !== 'handoff' || !file || !medianMs) continue;
      const { zero, requests } = JSON.parse(readFileSync(file, 'utf8'));
      for (const { phase, ratio } of rendersByPhase(requests, row.markers, zero, medianMs, retireAfterMs)) {
        const key = `${tag}\t${phase}`;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(ratio);
      }
      if (spanMs === undefined) continue;
      for (const { span, ratio } of rendersAfterReady(requests, row.markers, zero, medianMs, spanMs)) {
        const key = `${tag}\t${span}`;
        if (!spans.has(key)) spans.set(key, []);
        spans.get(key).push(ratio);
      }
    }
  }
  if (groups.size === 0) throw new Error('no one-instance handoff row with a requests file and renders: run restart-bench with --only handoff --requests');
  const rows = [...groups].map(([key, ratios]) => {
    const [variant, phase] = key.split('\t');
    return { variant, phase, ...summarize(ratios, limit) };
  }).sort((a, b) => a.variant.localeCompare(b.variant) || PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
  console.log(`| variant | phase | renders | median / steady median | 90th percentile | max | above ${limit} |`);
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.variant} | ${r.phase} | ${r.renders} | ${r.median} | ${r.p90} | ${r.max} | ${r.above} |`);
  const afterReady = [...spans].map(([key, ratios]) => {
    const [variant, span] = key.split('\t');
    return { variant, fromMs: Number(span), toMs: Number(span) + spanMs, ...summarize(ratios, limit) };
  }).sort((a, b) => a.variant.localeCompare(b.variant) || a.fromMs - b.fromMs);
  if (spanMs !== undefined) {
    console.log(`\n| variant | sent after the ready (ms) | renders | median / steady median | 90th percentile | max | above ${limit} |`);
    console.log('|---|---|---:|---:|---:|---:|---:|');
    for (const r of afterReady) console.log(`| ${r.variant} | ${r.fromMs}-${r.toMs} | ${r.renders} | ${r.median} | ${r.p90} | ${r.max} | ${r.above} |`);
  }
  console.log(JSON.stringify({ retireAfterMs, limit, rows, ...(spanMs === undefined ? {} : { afterReady }) }, null, 2));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`renders-by-retirement: ${error.message}\n`);
    process.exit(2);
  }
}
