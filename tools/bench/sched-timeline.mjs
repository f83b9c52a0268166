#!/usr/bin/env node
// Who had the CPUs, per 100 ms, around a hot handoff: reads a `perf sched record` file (the
// kernel's own context switches, every one of them) and prints per bucket the CPU each side used
// (predecessor, its Chromium, successor, its Chromium, the load process, everything else) and the
// longest scheduling delay (runnable but not running) of the load process and of each API process.
// Then the longest delays of the window, each with what ran on that CPU meanwhile.
//
//   perf sched record -a -o /tmp/sched.data -- npx nx run deployment:restart-bench -- \
//     --rates 500 --capacity 3400 --only handoff --keep-logs
//   node tools/bench/sched-timeline.mjs /tmp/sched.data --predecessor PID --successor PID [--load PID]
//     [--from -500] [--to 6000] [--bucket 100] [--top 10] [--json FILE]
//
// PIDs: the row's oldPids and newPids in restart-bench.json. Times are ms from the successor's
// first moment on a CPU as node (a prepared successor waits as `sh` from its predecessor's listen
// on). Without --load, the other `node` process that ran most often in the window counts as the
// load generator (it wakes for every request).
import { writeFileSync } from 'node:fs';
import { busiestOtherNode, ranWhileWaiting, readForks, readSwitches, rootFinder, successorStartMs, switchesByCpu } from './perf-sched.mjs';

function parseArgs(argv) {
  const [file, ...rest] = argv;
  if (!file || file.startsWith('--')) throw new Error('usage: sched-timeline.mjs FILE --predecessor PID --successor PID [--load PID] [--from MS] [--to MS] [--bucket MS] [--top N] [--json FILE]');
  const options = { file, from: -500, to: 6000, bucket: 100, top: 10 };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i].replace(/^--/, '');
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (key === 'json') options.json = value;
    else if (['predecessor', 'successor', 'load', 'from', 'to', 'bucket', 'top'].includes(key)) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`--${key} must be a number, got '${value}'`);
      options[key] = n;
    } else throw new Error(`unknown option --${key}`);
  }
  if (!options.predecessor || !options.successor) throw new Error('--predecessor and --successor are required (oldPids and newPids of the row in restart-bench.json)');
  if (options.bucket <= 0) throw new Error('--bucket must be > 0');
  return options;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const rows = readSwitches(o.file);
  const parents = readForks(o.file, rows);
  const t0 = successorStartMs(rows, o.successor);
  // The load generator: the other node process that ran most often in the window.
  o.load ??= busiestOtherNode(rows, (r) => r.end - t0 >= o.from && r.end - t0 < o.to, rootFinder(parents, [o.predecessor, o.successor]));
  const rootOf = rootFinder(parents, [o.predecessor, o.successor, o.load]);
  const side = (r) => {
    const root = rootOf(r.pid);
    if (root === o.load) return 'load';
    if (root === o.predecessor) return r.pid === o.predecessor ? 'predecessor' : 'its chromium';
    if (root === o.successor) return r.pid === o.successor ? 'successor' : "successor's chromium";
    return 'other';
  };
  const sides = ['predecessor', 'its chromium', 'successor', "successor's chromium", 'load', 'other'];
  const waiters = { load: (r) => rootOf(r.pid) === o.load && r.pid === o.load, predecessor: (r) => r.pid === o.predecessor, successor: (r) => r.pid === o.successor };
  const buckets = new Map();
  const bucket = (i) => buckets.get(i) ?? buckets.set(i, { cpu: Object.fromEntries(sides.map((s) => [s, 0])), delay: { load: 0, predecessor: 0, successor: 0 } }).get(i);
  for (const r of rows) {
    // Spread the run over the buckets it covers.
    let start = r.end - r.run - t0;
    const end = r.end - t0;
    while (start < end) {
      const i = Math.floor(start / o.bucket);
      const cut = Math.min(end, (i + 1) * o.bucket);
      bucket(i).cpu[side(r)] += cut - start;
      start = cut;
    }
    const woke = Math.floor((r.end - r.run - t0) / o.bucket);
    for (const [name, is] of Object.entries(waiters)) if (is(r)) bucket(woke).delay[name] = Math.max(bucket(woke).delay[name], r.delay);
  }
  const table = [];
  for (let i = Math.floor(o.from / o.bucket); i * o.bucket < o.to; i += 1) {
    const b = bucket(i);
    table.push({ ms: i * o.bucket, cpuMs: Object.fromEntries(sides.map((s) => [s, Math.round(b.cpu[s])])), maxDelayMs: Object.fromEntries(Object.entries(b.delay).map(([k, v]) => [k, Math.round(v * 10) / 10])) });
  }
  // The longest waits of the window, and who ran on that CPU while they waited.
  const inWindow = rows.filter((r) => r.end - r.run - t0 >= o.from && r.end - r.run - t0 < o.to && r.delay > 0 && side(r) !== 'other');
  const byCpu = switchesByCpu(rows);
  const longest = inWindow.sort((a, b) => b.delay - a.delay).slice(0, o.top).map((w) => {
    const ran = ranWhileWaiting(byCpu.get(w.cpu), w, side);
    return { atMs: Math.round(w.end - w.run - w.delay - t0), cpu: w.cpu, who: `${side(w)} ${w.comm} ${w.tid}`, waitedMs: Math.round(w.delay * 10) / 10, ranMeanwhileMs: Object.fromEntries(Object.entries(ran).map(([k, v]) => [k, Math.round(v * 10) / 10])) };
  });
  const result = { file: o.file, predecessor: o.predecessor, successor: o.successor, load: o.load, bucketMs: o.bucket, buckets: table, longestWaits: longest };
  if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ predecessor: o.predecessor, successor: o.successor, load: o.load, bucketMs: o.bucket }));
  const short = { predecessor: 'pred', 'its chromium': 'pred chr', successor: 'succ', "successor's chromium": 'succ chr', load: 'load', other: 'other' };
  console.log(`| ms | ${sides.map((s) => `${short[s]} CPU`).join(' | ')} | idle | max delay load / pred / succ (ms) |`);
  console.log(`|---:|${sides.map(() => '---:').join('|')}|---:|---|`);
  const cpus = new Set(rows.map((r) => r.cpu)).size;
  for (const row of table) {
    const busy = sides.reduce((sum, s) => sum + row.cpuMs[s], 0);
    console.log(`| ${row.ms} | ${sides.map((s) => row.cpuMs[s]).join(' | ')} | ${Math.max(0, cpus * o.bucket - busy)} | ${row.maxDelayMs.load} / ${row.maxDelayMs.predecessor} / ${row.maxDelayMs.successor} |`);
  }
  console.log('\nlongest waits (runnable, not running) and what ran on that CPU meanwhile (ms):');
  for (const w of longest) console.log(`  at ${w.atMs} ms, cpu ${w.cpu}: ${w.who} waited ${w.waitedMs}; ran: ${JSON.stringify(w.ranMeanwhileMs)}`);
}

try {
  main();
} catch (error) {
  console.error(`sched-timeline: ${error.message}`);
  process.exit(2);
}
