#!/usr/bin/env node
// Whether a row's QC renders get faster during its steady window: the median render of its first
// --span ms against that of the --span ms before the signal, for every row of the given runs of
// restart-bench (the rows' <row>.instruments.json). A render is read from its 100 ms bucket: the
// bucket's p99, which at the bench's rates (20-50 requests a bucket, one render among them) is the
// render's latency. The bucket test compares a restart with its steady window's worst bucket, so a
// steady window that is slower at its start than at its end sets that worst bucket early.
//
//   node tools/bench/steady-drift.mjs tools/bench/results/restart-<stamp> [more] [--span 10000]
//
// Prints a line per row and a summary, then the same as JSON.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchRunOf } from './results-dir.mjs';
import { quantile } from './session-leader.mjs';

const median = (values) => quantile(values, 0.5);
const round = (x, places = 2) => Math.round(x * 10 ** places) / 10 ** places;

/**
 * The renders of a steady window [`steadyFromMs`, `signalMs`) in `buckets` (restart-bench's
 * 100 ms buckets: `startMs`, `p99Ms`, `qcRenders`): the median of those in its first `spanMs`,
 * of those in its last `spanMs`, and first / last. Undefined when either part has fewer than
 * three renders, or the window is shorter than two spans.
 */
export function steadyDrift(buckets, steadyFromMs, signalMs, spanMs = 10_000) {
  if (!(spanMs > 0)) throw new Error(`the span must be a positive number of ms (got ${spanMs})`);
  if (signalMs - steadyFromMs < 2 * spanMs) return undefined;
  const renders = buckets.filter((b) => b.qcRenders > 0 && b.startMs >= steadyFromMs && b.startMs < signalMs);
  const first = renders.filter((b) => b.startMs < steadyFromMs + spanMs).map((b) => b.p99Ms);
  const last = renders.filter((b) => b.startMs >= signalMs - spanMs).map((b) => b.p99Ms);
  if (first.length < 3 || last.length < 3) return undefined;
  return { renders: renders.length, firstMs: round(median(first), 1), lastMs: round(median(last), 1), ratio: round(median(first) / median(last), 3) };
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { span: { type: 'string', default: '10000' } } });
  if (positionals.length === 0) throw new Error('usage: steady-drift.mjs RESULT_DIR [RESULT_DIR ...] [--span 10000] (runs of restart-bench)');
  const spanMs = Number(values.span);
  const rows = [];
  for (const dir of positionals) {
    const run = benchRunOf(dir);
    for (const row of run.rows ?? []) {
      const file = row.instruments?.file ?? row.timeline?.replace(/\.svg$/, '.instruments.json');
      if (!file) continue;
      const { buckets, window } = JSON.parse(readFileSync(file, 'utf8'));
      const drift = steadyDrift(buckets, run.warmupMs ?? 5_000, window.fromMs, spanMs);
      if (drift) rows.push({ run: dir.split('/').at(-1), scenario: row.scenario, rate: row.rate, ...drift });
    }
  }
  if (rows.length === 0) throw new Error(`no row with at least three renders in each ${spanMs} ms of its steady window`);
  const ratios = rows.map((r) => r.ratio);
  const q = (p) => quantile(ratios, p);
  const summary = { rows: rows.length, spanMs, medianRatio: q(0.5), quartiles: [q(0.25), q(0.75)], slowerFirst: round(rows.filter((r) => r.ratio > 1).length / rows.length) };
  for (const r of rows) console.log(`${r.run} ${r.scenario} ${r.rate}/s: first ${r.firstMs} ms, last ${r.lastMs} ms, ${r.ratio}`);
  console.log(`\n| rows | first / last, median | quartiles | rows slower first |\n|---:|---:|---|---:|\n| ${summary.rows} | ${summary.medianRatio} | ${summary.quartiles.join(' - ')} | ${Math.round(summary.slowerFirst * 100)} % |\n`);
  console.log(JSON.stringify({ summary, rows }));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error(`steady-drift: ${error.message}`);
    process.exit(2);
  }
}
