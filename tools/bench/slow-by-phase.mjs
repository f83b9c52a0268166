#!/usr/bin/env node
// When the requests that set a restart's p99 were sent: for each row of restart-bench runs kept
// with --requests, the requests of the restart window at or above the row's restart p99, counted
// by phase (each successor's start, each switch, and the rest), next to how long each phase was;
// and how many of them were QC renders, and where the others spent most of their time (the sender's
// own lag among the parts: the bench times a request from when it was due). The phases
// are those of sched-waits.mjs, from the row's markers.
//
// A second table takes the first 40 ms after each signal on their own (--after-signal-ms): the
// requests other than QC renders sent then, their slowest, and how many were at or above the
// steady p99. A stall of the old process as it starts its successor shows there.
//
//   node tools/bench/slow-by-phase.mjs tools/bench/results/restart-<stamp> [more result dirs] [--after-signal-ms 40]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { benchRowsOf, isHandoffRow, isQcRender, requestsFileOf } from './results-dir.mjs';
import { phasesOf } from './sched-waits.mjs';

/** The part of a request's time that was largest, as restart-bench's own log names it (restart-bench.requests.ts). */
function largestPart(r) {
  if (r.by === 'unmatched') return 'unmatched';
  const parts = [['send lag', r.lagMs ?? 0], ['before parse', r.beforeMs ?? 0], ['in server', r.serverMs ?? 0], ['in nginx', r.nginxMs ?? 0], ['after', r.afterMs ?? 0]];
  return parts.sort((a, b) => b[1] - a[1])[0][0];
}

/** Where the requests' sentMs count from: the marker labelled `zeroLabel` (a ready), on the markers' clock. */
function zeroOf(markers, zeroLabel) {
  const zero = markers.find((m) => m.label === zeroLabel)?.ms;
  if (zero === undefined) throw new Error(`no marker '${zeroLabel}', from which the requests are timed`);
  return zero;
}

/**
 * Counts `requests` (sentMs from the ready of `zeroLabel`) at or above `thresholdMs`, by phase of
 * `markers`; and of them, the QC renders, and the others by the largest part of their time, passed
 * on to a successor, and in a GC pause of their process for more than half their time.
 */
export function slowByPhase(markers, requests, zeroLabel, thresholdMs) {
  const zero = zeroOf(markers, zeroLabel);
  const phases = phasesOf(markers).slice(1); // the steady seconds lie before the restart window
  const counts = Object.fromEntries([...phases.map((p) => [p.name, 0]), ['rest of the window', 0]]);
  let slow = 0;
  const kinds = { qcRenders: 0, others: {}, passedOn: 0, inGc: 0 };
  for (const r of requests) {
    // The bench counts a request's latency from its scheduled time: the sender's lag is part of it
    // (requests files before the lag was kept have none).
    const latency = r.latencyMs + (r.lagMs ?? 0);
    if (latency < thresholdMs) continue;
    slow += 1;
    if (isQcRender(r)) kinds.qcRenders += 1;
    else {
      const part = largestPart(r);
      kinds.others[part] = (kinds.others[part] ?? 0) + 1;
      if (r.forwarded) kinds.passedOn += 1;
      if ((r.gcMs ?? 0) > latency / 2) kinds.inGc += 1;
    }
    const sent = r.sentMs + zero;
    const phase = phases.find((p) => sent >= p.from && sent < p.to);
    counts[phase ? phase.name : 'rest of the window'] += 1;
  }
  const seconds = Object.fromEntries(phases.map((p) => [p.name, Math.round((p.to - p.from) / 100) / 10]));
  return { slow, counts, seconds, kinds };
}

/**
 * For each signal of `markers`: the requests other than QC renders sent in the `windowMs` after
 * it (sentMs from the ready of `zeroLabel`), their slowest (from when each was due), and how many
 * took `thresholdMs` or more.
 */
export function afterSignals(markers, requests, zeroLabel, windowMs, thresholdMs) {
  const zero = zeroOf(markers, zeroLabel);
  return markers
    .filter((m) => m.kind === 'signal')
    .map((signal) => {
      const latencies = requests
        .filter((r) => !isQcRender(r) && r.sentMs + zero >= signal.ms && r.sentMs + zero < signal.ms + windowMs)
        .map((r) => r.latencyMs + (r.lagMs ?? 0));
      const slowest = latencies.length === 0 ? null : Math.round(Math.max(...latencies) * 10) / 10;
      return { label: signal.label, requests: latencies.length, slowestMs: slowest, atOrAbove: latencies.filter((l) => l >= thresholdMs).length };
    });
}

function main() {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--after-signal-ms');
  const windowMs = flag < 0 ? 40 : Number(args[flag + 1]);
  if (!(windowMs > 0)) throw new Error(`--after-signal-ms takes a positive number of ms, got ${args[flag + 1]}`);
  const dirs = flag < 0 ? args : args.filter((_, i) => i !== flag && i !== flag + 1);
  if (dirs.length === 0) throw new Error('usage: slow-by-phase.mjs RESULT_DIR [RESULT_DIR ...] [--after-signal-ms 40] (runs of restart-bench with --requests)');
  const signalLines = [];
  console.log('| run | row | req/s | p99 steady -> restart (ms) | requests at or above the restart p99, by phase (count; phase length s) | of them QC renders; the others by their largest part |');
  console.log('|---|---|---:|---|---|---|');
  let rows = 0;
  for (const dir of dirs) {
    const benchRows = benchRowsOf(dir);
    for (const [index, row] of benchRows.entries()) {
      const requestsFile = requestsFileOf(row);
      // Handoff rows only, and with their requests kept.
      if (!requestsFile || !isHandoffRow(row)) continue;
      // Before 863902c a repeated row wrote its files over the earlier repeat's: they are the last one's.
      if (benchRows.slice(index + 1).some((later) => later.timeline === row.timeline)) continue;
      const { zero, requests } = JSON.parse(readFileSync(requestsFile, 'utf8'));
      const result = slowByPhase(row.markers, requests, zero, row.restart.p99Ms);
      const phases = Object.entries(result.counts).map(([name, n]) => `${name} ${n}${result.seconds[name] === undefined ? '' : ` (${result.seconds[name]})`}`).join(', ');
      const { qcRenders, others, passedOn, inGc } = result.kinds;
      const parts = Object.entries(others).sort((a, b) => b[1] - a[1]).map(([part, n]) => `${part} ${n}`).join(', ') || 'none';
      console.log(`| ${basename(dir)} | ${row.label} | ${row.rate} | ${row.steady.p99Ms} -> ${row.restart.p99Ms} | ${result.slow}: ${phases} | ${qcRenders}; ${parts} (passed on ${passedOn}, in a GC ${inGc}) |`);
      const signals = afterSignals(row.markers, requests, zero, windowMs, row.steady.p99Ms);
      signalLines.push(`| ${basename(dir)} | ${row.label} | ${row.rate} | ${row.steady.p99Ms} | ${signals.map((s) => `${s.requests}, ${s.slowestMs ?? '-'} ms, ${s.atOrAbove}`).join('; ')} |`);
      rows += 1;
    }
  }
  if (rows === 0) throw new Error('no row with a requests file and a restart: run restart-bench with --requests');
  console.log(`\n| run | row | req/s | steady p99 (ms) | the first ${windowMs} ms after each signal: requests other than QC renders, the slowest, how many at or above the steady p99 |`);
  console.log('|---|---|---:|---:|---|');
  for (const line of signalLines) console.log(line);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error(`slow-by-phase: ${error.message}`);
    process.exit(2);
  }
}
