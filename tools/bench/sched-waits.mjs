#!/usr/bin/env node
// Whom the serving threads waited behind, phase by phase, in a hot handoff or a rolling restart:
// reads a `perf sched record` of a restart-bench run (the kernel's own record of every context
// switch) and, for each wait for a CPU of at least --min ms by a serving thread (the main thread
// of each API that serves, nginx's processes, the load's main thread), what ran on that CPU while
// it waited. Phases come from the row's markers: the steady seconds before the first signal, each
// successor's start (signal to ready) and each switch (ready to the predecessor's exit + 300 ms).
//
//   perf sched record -a -o /tmp/sched.data -- npx nx run deployment:restart-bench -- \
//     --rates 500 --capacity 3400 --only rolling-handoff --keep-logs
//   node tools/bench/sched-waits.mjs /tmp/sched.data tools/bench/results/restart-<stamp>/restart-bench.json \
//     [--row 0] [--min 2] [--load PID] [--top 10] [--json FILE]
//
// A successor's tree counts as "start N" until its ready and as "instance N" after it. A wait is
// placed on the CPU the thread ran on when it ended: a thread moved to another CPU by the load
// balancer waited, before that, behind what ran on the first one (the kernel trace does not say).
// `perf sched record` slows every context switch: compare its figures with each other, not with a
// run without it.
import { readFileSync, writeFileSync } from 'node:fs';
import { benchClock, busiestOtherNode, ranWhileWaiting, readForks, readSwitches, rootFinder, switchesByCpu } from './perf-sched.mjs';

const USAGE = 'usage: sched-waits.mjs PERF_DATA RESTART_BENCH_JSON [--row N] [--min MS] [--load PID] [--top N] [--json FILE]';

export function parseArgs(argv) {
  const [file, benchFile, ...rest] = argv;
  if (!file || !benchFile || file.startsWith('--') || benchFile.startsWith('--')) throw new Error(USAGE);
  const options = { file, benchFile, row: 0, min: 2, top: 10 };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i].replace(/^--/, '');
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (key === 'json') options.json = value;
    else if (['row', 'min', 'load', 'top'].includes(key)) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} must be a number of at least 0, got '${value}'`);
      options[key] = n;
    } else throw new Error(`unknown option --${key}\n${USAGE}`);
  }
  return options;
}

const round1 = (x) => Math.round(x * 10) / 10;

const KERNEL_THREAD = /^(kdamond|ksoftirqd|kworker|rcu_|migration|kcompactd|kswapd|khugepaged)/;

/** Phases in the bench's ms from the row's markers: steady, then start/switch per instance. */
export function phasesOf(markers) {
  const at = (label) => markers.find((m) => m.label === label)?.ms;
  const signals = markers.filter((m) => m.kind === 'signal');
  if (signals.length === 0) throw new Error('the row has no signal marker: a control row or a failed restart has no phases');
  const suffixes = signals.map((m) => m.label.replace(/^signal/, ''));
  const phases = [{ name: 'steady', from: signals[0].ms - 5_400, to: signals[0].ms - 400 }];
  suffixes.forEach((s, k) => {
    const ready = at(`successor ready${s}`);
    const exit = at(`predecessor exit${s}`);
    if (ready === undefined || exit === undefined) throw new Error(`the row has no 'successor ready${s}' or 'predecessor exit${s}' marker`);
    phases.push({ name: `start${s}`, instance: k, from: signals[k].ms - 400, to: ready }, { name: `switch${s}`, instance: k, from: ready, to: exit + 300 });
  });
  return phases;
}

export function analyse({ rows, parents, row, min, load, top }) {
  const oldPids = row.oldPids;
  const newPids = row.newPids;
  const phases = phasesOf(row.markers);
  const readyMs = phases.filter((p) => p.name.startsWith('switch')).map((p) => p.from);
  // The first successor's first moment on a CPU as node is its spawn (or a prepared one's exec): the first signal.
  const benchMs = benchClock(rows, phases[1].from + 400, newPids[0]);
  const rootOf = rootFinder(parents, [...oldPids, ...newPids]);
  // The load generator: the other node process that ran most often in this row's phases.
  load ??= busiestOtherNode(rows, (r) => benchMs(r.end) >= phases[0].from && benchMs(r.end) < phases[phases.length - 1].to, rootOf);
  /** What a thread was at a moment of the bench's clock. */
  const who = (r, ms) => {
    const root = rootOf(r.pid);
    const suffix = root !== undefined && r.pid !== root ? ' chromium' : '';
    const old = oldPids.indexOf(root);
    if (old >= 0) return `instance ${old} (old)${suffix}`;
    const fresh = newPids.indexOf(root);
    if (fresh >= 0) return ms < (readyMs[fresh] ?? Infinity) ? `start ${fresh}${suffix}` : `instance ${fresh} (new)${suffix}`;
    if (r.pid === load) return 'load';
    if (r.comm.startsWith('nginx')) return 'nginx';
    if (KERNEL_THREAD.test(r.comm)) return `kernel ${r.comm.replace(/\/\d+$/, '')}`;
    return 'other';
  };
  /** Whose waits count: the serving main threads, nginx, the load. */
  const waiter = (r, ms) => {
    if (r.pid === load && r.tid === load) return 'load';
    if (r.comm.startsWith('nginx')) return 'nginx';
    if (r.tid !== r.pid) return undefined;
    const old = oldPids.indexOf(r.pid);
    if (old >= 0) return `instance ${old} (old)`;
    const fresh = newPids.indexOf(r.pid);
    if (fresh >= 0 && ms >= readyMs[fresh]) return `instance ${fresh} (new)`;
    return undefined;
  };
  const byCpu = switchesByCpu(rows);
  const table = phases.map((p) => ({ ...p, seconds: (p.to - p.from) / 1000, waiters: {} }));
  const waits = [];
  for (const w of rows) {
    if (w.delay < min) continue;
    const endMs = benchMs(w.end - w.run);
    const name = waiter(w, endMs);
    if (!name) continue;
    const phase = table.find((p) => endMs >= p.from && endMs < p.to);
    if (!phase) continue;
    const ran = ranWhileWaiting(byCpu.get(w.cpu), w, (r) => who(r, benchMs(r.end)));
    const entry = (phase.waiters[name] ??= { waits: 0, waitedMs: 0, behindMs: {} });
    entry.waits += 1;
    entry.waitedMs += w.delay;
    for (const [k, v] of Object.entries(ran)) entry.behindMs[k] = (entry.behindMs[k] ?? 0) + v;
    waits.push({ atMs: Math.round(endMs - w.delay), phase: phase.name, who: name, cpu: w.cpu, waitedMs: round1(w.delay), ranMeanwhileMs: Object.fromEntries(Object.entries(ran).map(([k, v]) => [k, round1(v)])) });
  }
  for (const p of table) {
    for (const e of Object.values(p.waiters)) {
      e.waitedMs = round1(e.waitedMs);
      e.behindMs = Object.fromEntries(Object.entries(e.behindMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round1(v)]));
    }
  }
  waits.sort((a, b) => b.waitedMs - a.waitedMs);
  return { load, minMs: min, phases: table, longest: waits.slice(0, top) };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const bench = JSON.parse(readFileSync(o.benchFile, 'utf8'));
  const row = bench.rows?.[o.row];
  if (!row) throw new Error(`${o.benchFile} has no row ${o.row} (it has ${bench.rows?.length ?? 0})`);
  const rows = readSwitches(o.file);
  if (rows.length === 0) throw new Error(`no context switches in ${o.file}: record it with perf sched record -a`);
  const parents = readForks(o.file, rows);
  const result = analyse({ rows, parents, row, min: o.min, load: o.load, top: o.top });
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ file: o.file, bench: o.benchFile, row: row.label, ...result }, null, 2)}\n`);
  console.log(`${row.label} at ${row.rate} req/s; waits for a CPU of ${o.min} ms or more; load pid ${result.load}`);
  console.log('| phase | s | waiter | waits/s | waited ms/s | behind (ms/s, the three largest) |');
  console.log('|---|---:|---|---:|---:|---|');
  for (const p of result.phases) {
    for (const [name, e] of Object.entries(p.waiters).sort()) {
      const behind = Object.entries(e.behindMs).slice(0, 3).map(([k, v]) => `${k} ${round1(v / p.seconds)}`).join(', ');
      console.log(`| ${p.name} | ${round1(p.seconds)} | ${name} | ${round1(e.waits / p.seconds)} | ${round1(e.waitedMs / p.seconds)} | ${behind} |`);
    }
  }
  console.log(`\nthe ${result.longest.length} longest waits (ms on the bench's clock) and what ran on that CPU meanwhile:`);
  for (const w of result.longest) console.log(`  ${w.atMs} ${w.phase}: ${w.who} waited ${w.waitedMs} on cpu ${w.cpu}; ran: ${JSON.stringify(w.ranMeanwhileMs)}`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error(`sched-waits: ${error.message}`);
    process.exit(2);
  }
}
