#!/usr/bin/env node
// Where the CPU went around a one-instance hot handoff, and who waited for it: reads a
// `perf sched record` of a restart-bench run and, for each one-instance handoff row, sums per
// process group the time its threads ran and the time they waited runnable, in ms per second of
// each window: steady (the 5 s before the signal), the start (signal to ready), the switch (the
// first 300 ms after the ready) and after it (0.3-1.3 s). Groups: each API's main thread, its
// other threads (V8's compilers and collector, libuv's pool), its Chromium, the load, the kernel's
// threads, and the rest. Then, for the successor's Chromium in the switch, what ran on its CPU
// while it waited.
//
//   perf sched record -a -o /tmp/sched.data -- npx nx run deployment:restart-bench -- \
//     --rates 500 --capacity 3400 --only handoff,handoff,handoff --qc-per-sec 10 --requests --keep-logs
//   node tools/bench/sched-budget.mjs /tmp/sched.data tools/bench/results/restart-<stamp>/restart-bench.json [--json FILE]
//
// A thread's run and wait count in the window where it left the CPU. The recording slows every
// context switch: compare its figures with each other, not with a run without it.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { benchClock, busiestOtherNode, ranWhileWaiting, readForks, readSwitches, rootFinder, switchesByCpu } from './perf-sched.mjs';
import { phasesOf } from './sched-waits.mjs';

const KERNEL_THREAD = /^(kdamond|ksoftirqd|kworker|rcu_|migration|kcompactd|kswapd|khugepaged)/;
const round = (x) => Math.round(x);

/**
 * The budget of one row: `rows` are perf's switches (perf-sched.mjs), `parents` its forks, `row` a
 * restart-bench row with one old and one new pid. `load` is the load generator's pid, or the other
 * node process that ran most often.
 */
export function budget({ rows, parents, row, load }) {
  const [oldPid] = row.oldPids;
  const [newPid] = row.newPids;
  const phases = phasesOf(row.markers);
  const ready = phases[2].from;
  // The successor's first moment on a CPU as node is the signal, on the bench's clock.
  const benchMs = benchClock(rows, phases[1].from + 400, newPid);
  const rootOf = rootFinder(parents, [oldPid, newPid]);
  const windows = [
    { name: 'steady', from: phases[0].from, to: phases[0].to },
    { name: 'start', from: phases[1].from, to: ready },
    { name: 'switch (0-300 ms)', from: ready, to: ready + 300 },
    { name: 'after (0.3-1.3 s)', from: ready + 300, to: ready + 1300 },
  ];
  load ??= busiestOtherNode(rows, (r) => benchMs(r.end) >= windows[0].from && benchMs(r.end) < windows.at(-1).to, rootOf);
  const groupOf = (r) => {
    const root = rootOf(r.pid);
    if (root !== undefined) {
      const api = root === oldPid ? 'old' : 'new';
      if (r.pid !== root) return `${api} chromium`;
      return r.tid === root ? `${api} node, main thread` : `${api} node, other threads`;
    }
    if (r.pid === load) return 'load';
    if (KERNEL_THREAD.test(r.comm)) return 'kernel threads';
    return 'rest';
  };
  const groupsOf = windows.map(() => ({}));
  for (const r of rows) {
    const ms = benchMs(r.end);
    const i = windows.findIndex((w) => ms >= w.from && ms < w.to);
    if (i < 0) continue;
    const g = (groupsOf[i][groupOf(r)] ??= { runMs: 0, waitMs: 0 });
    g.runMs += r.run;
    g.waitMs += r.delay;
  }
  const table = windows.map((w, i) => {
    const groups = groupsOf[i];
    const seconds = (w.to - w.from) / 1000;
    const perSecond = Object.fromEntries(Object.entries(groups).sort((a, b) => b[1].runMs - a[1].runMs).map(([k, g]) => [k, { runMsPerS: round(g.runMs / seconds), waitMsPerS: round(g.waitMs / seconds) }]));
    return { window: w.name, fromMs: round(w.from - ready), toMs: round(w.to - ready), groups: perSecond };
  });
  // Whom the successor's Chromium waited behind in the switch: what ran on its CPU meanwhile.
  const byCpu = switchesByCpu(rows);
  const behindMs = {};
  let waitedMs = 0;
  for (const w of rows) {
    const ranAt = benchMs(w.end - w.run);
    if (w.delay <= 0 || ranAt < ready || ranAt >= ready + 300 || groupOf(w) !== 'new chromium') continue;
    waitedMs += w.delay;
    for (const [group, ms] of Object.entries(ranWhileWaiting(byCpu.get(w.cpu), w, groupOf))) behindMs[group] = (behindMs[group] ?? 0) + ms;
  }
  const behind = Object.fromEntries(Object.entries(behindMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  return { load, windows: table, newChromiumInSwitch: { waitedMs: Math.round(waitedMs * 10) / 10, behindMs: behind } };
}

function main(argv) {
  const [file, benchFile, ...rest] = argv;
  if (!file || !benchFile || file.startsWith('--') || benchFile.startsWith('--')) throw new Error('usage: sched-budget.mjs PERF_DATA RESTART_BENCH_JSON [--json FILE]');
  const jsonAt = rest.indexOf('--json');
  if (jsonAt >= 0 && !rest[jsonAt + 1]) throw new Error('--json needs a file to write');
  const bench = JSON.parse(readFileSync(benchFile, 'utf8'));
  const targets = bench.rows.filter((r) => r.oldPids?.length === 1 && r.newPids?.length === 1 && (r.markers ?? []).some((m) => m.kind === 'signal'));
  if (targets.length === 0) throw new Error(`${benchFile} has no one-instance handoff row`);
  const rows = readSwitches(file);
  const parents = readForks(file, rows);
  const out = [];
  for (const row of targets) {
    const name = basename(row.timeline ?? '', '.svg');
    const result = budget({ rows, parents, row });
    out.push({ row: name, ...result });
    const groups = [...new Set(result.windows.flatMap((w) => Object.keys(w.groups)))];
    const lines = [`\n${name}: ms per second, run / waited`, `| group | ${result.windows.map((w) => `${w.window}`).join(' | ')} |`, `|---|${result.windows.map(() => '---:').join('|')}|`];
    for (const g of groups) lines.push(`| ${g} | ${result.windows.map((w) => (w.groups[g] ? `${w.groups[g].runMsPerS} / ${w.groups[g].waitMsPerS}` : '-')).join(' | ')} |`);
    const behind = Object.entries(result.newChromiumInSwitch.behindMs).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`the successor's Chromium waited ${result.newChromiumInSwitch.waitedMs} ms in the switch's 300 ms, behind: ${behind || 'nothing'}`);
    process.stderr.write(`${lines.join('\n')}\n`);
  }
  const json = JSON.stringify({ perf: file, bench: benchFile, rows: out }, null, 2);
  if (jsonAt >= 0) writeFileSync(rest[jsonAt + 1], `${json}\n`);
  else process.stdout.write(`${json}\n`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`sched-budget: ${error.message}`);
    process.exit(2);
  }
}
