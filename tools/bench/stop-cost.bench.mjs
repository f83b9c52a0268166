#!/usr/bin/env node
// What stopping a process tree for the length of a render costs that render (issue 15; cause 22,
// "A start that yields to the renders" in tools/bench/README.md). A successor's start yields to
// its predecessor's renders: the predecessor sends SIGSTOP to every process of the starting tree
// when a render begins, and SIGCONT when it ends. Each thread of a process that gets SIGSTOP
// has to run to stop, and to run again when it is continued; Chromium's processes have a hundred
// threads between them. This measures that part alone, with a tree that is otherwise idle.
//
// In one session (one scheduling group, as a predecessor and its successor share): a serving API
// renders short lessons one after another. Beside it, a second API of the same build, ready and
// idle (node and its Chromium). In blocks of --renders renders, in turns (the order alternates by
// round):
//   none   the second tree is left alone
//   stops  every process of the second tree is stopped (parents first) right before each render
//          is sent, and continued (children first) once it is answered
// Reported per mode: the renders' median and 90th percentile (and against `none`), the time
// this process spent in kill(2) per render, and the CPU the second tree used.
//
//   npx nx build api && node tools/bench/stop-cost.bench.mjs [--rounds 6] [--renders 20]
//
// Prints a table on stderr and one JSON object on stdout. Linux only.
import { existsSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { descendantsIn, processTable, procStat, quantile, renderer, root, round1, startApiUnder, startLeader } from './session-leader.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, renders: { type: 'string', default: '20' } } });
const ROUNDS = Number(values.rounds);
const RENDERS = Number(values.renders);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a whole number of at least 1, not ${values.rounds}`);
if (!Number.isInteger(RENDERS) || RENDERS < 1) throw new Error(`--renders must be a whole number of at least 1, not ${values.renders}`);
const apiMain = join(root, 'dist/apps/api/main.js');
if (!existsSync(apiMain)) {
  console.error(`${apiMain} is missing: run \`npx nx build api\` first`);
  process.exit(2);
}
const log = (line) => process.stderr.write(`${line}\n`);
const MODES = ['none', 'stops'];
/** A clock tick of /proc/<pid>/stat's times, in ms (USER_HZ is 100 on Linux). */
const TICK_MS = 10;

/** `pid` and its descendants, parents first. */
const treeOf = (pid) => [pid, ...descendantsIn(processTable(), pid).map(([child]) => child)];

const threadsOf = (pids) => pids.reduce((n, pid) => {
  try {
    return n + readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return n; // gone
  }
}, 0);
const ticksOf = (pids) => pids.reduce((n, pid) => n + (procStat(pid)?.ticks ?? 0), 0);

/** Sends `signal` to each of `pids` in order; returns the ms it took. A process gone meanwhile is skipped. */
function signalAll(pids, signal) {
  const started = performance.now();
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone: nothing to stop or continue
    }
  }
  return performance.now() - started;
}

log(`stop-cost: ${ROUNDS} rounds of ${RENDERS} renders per mode, ${cpus().length} CPUs, load average ${loadavg().map(round1).join(' ')}`);
const leader = startLeader();
const results = Object.fromEntries(MODES.map((m) => [m, { latencies: [], killMs: [], treeTicks: 0, treeMs: 0 }]));
let tree = [];
let stopped = false;
let shape = { processes: 0, threads: 0 };
try {
  const serving = await startApiUnder(leader, apiMain);
  const render = renderer(serving.port);
  for (let i = 0; i < 20; i++) await render(); // warm: Chromium's first renders are slower
  const other = await startApiUnder(leader, apiMain);
  const renderThere = renderer(other.port);
  for (let i = 0; i < 5; i++) await renderThere();
  await sleep(2_000); // its start's after-work settles
  for (let round = 0; round < ROUNDS; round++) {
    tree = treeOf(other.pid);
    shape = { processes: tree.length, threads: threadsOf(tree) };
    for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
      const into = results[mode];
      const ticksBefore = ticksOf(tree);
      const from = performance.now();
      for (let i = 0; i < RENDERS; i++) {
        let killMs = 0;
        if (mode === 'stops') {
          killMs += signalAll(tree, 'SIGSTOP');
          stopped = true;
        }
        const { started, ended } = await render();
        if (mode === 'stops') {
          killMs += signalAll([...tree].reverse(), 'SIGCONT');
          stopped = false;
        }
        into.latencies.push(ended - started);
        into.killMs.push(killMs);
        await sleep(15);
      }
      into.treeTicks += ticksOf(tree) - ticksBefore;
      into.treeMs += performance.now() - from;
    }
  }
} finally {
  if (stopped) signalAll([...tree].reverse(), 'SIGCONT'); // a stopped API would not act on its SIGTERM
  await leader.close();
}

const none = quantile(results.none.latencies, 0.5);
const rows = MODES.map((mode) => {
  const { latencies, killMs, treeTicks, treeMs } = results[mode];
  const median = quantile(latencies, 0.5);
  const p90 = quantile(latencies, 0.9);
  return {
    mode, renders: latencies.length, medianMs: round1(median), p90Ms: round1(p90),
    medianVsNone: Math.round((median / none) * 100) / 100, p90VsNone: Math.round((p90 / quantile(results.none.latencies, 0.9)) * 100) / 100,
    killMsPerRender: Math.round(quantile(killMs, 0.5) * 100) / 100,
    treeCpuMsPerRender: round1((treeTicks * TICK_MS) / latencies.length), treeCpuShare: Math.round(((treeTicks * TICK_MS) / treeMs) * 1000) / 1000,
  };
});
log(`\nthe second tree: ${shape.processes} processes, ${shape.threads} threads`);
log('| mode | renders | median (ms) | p90 (ms) | median / none | p90 / none | kill(2) per render (ms, median) | second tree CPU per render (ms) |\n|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) log(`| ${r.mode} | ${r.renders} | ${r.medianMs} | ${r.p90Ms} | ${r.medianVsNone} | ${r.p90VsNone} | ${r.killMsPerRender} | ${r.treeCpuMsPerRender} |`);
process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, rounds: ROUNDS, rendersPerBlock: RENDERS, tree: shape, rows }, null, 2)}\n`);
