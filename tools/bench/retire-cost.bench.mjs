#!/usr/bin/env node
// What an API's stop costs the QC renders of another API beside it in the same scheduling group,
// by the stopping tree's placement (issue 15: after a handoff the old process closes its Chromium
// and exits while its successor serves; "A quiet retirement" in tools/bench/README.md).
//
// In one session (so one autogroup, as an old process and its successor share): a serving API
// renders short lessons one after another. In turns, a second API of the same build starts,
// renders 20 lessons on its own Chromium, and stops on SIGTERM (its pool's close and its exit):
//   own priority  the stopping tree as it runs (SCHED_OTHER, Chromium at QC_CHROME_NICE)
//   SCHED_IDLE    its whole tree at SCHED_IDLE (started under chrt --idle 0), as HANDOFF_RETIRE_IDLE leaves it
// A render counts for a stop when it overlaps the time from the signal to the exit; it is
// compared with the renders of a quiet second before each start, with no second API running.
//
//   npx nx build api && node tools/bench/retire-cost.bench.mjs [--rounds 12]
//
// Prints a table on stderr and one JSON object on stdout. Linux only (chrt, util-linux).
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { quantile, renderer, root, round1, startApiUnder, startLeader } from './session-leader.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '12' } } });
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a whole number of at least 1, not ${values.rounds}`);
const apiMain = join(root, 'dist/apps/api/main.js');
if (!existsSync(apiMain)) {
  console.error(`${apiMain} is missing: run \`npx nx build api\` first`);
  process.exit(2);
}
const log = (line) => process.stderr.write(`${line}\n`);

// How the second API is started. At SCHED_IDLE from its exec on, everything it starts (its
// Chromium) inherits the policy: at its stop the whole tree is where a retiring process's
// retireIdle() puts it. Its start and its own renders are not measured.
const PLACEMENTS = {
  'own priority': (file, args) => [file, args],
  SCHED_IDLE: (file, args) => ['chrt', ['--idle', '0', file, ...args]],
};

log(`retire-cost: ${ROUNDS} rounds, ${cpus().length} CPUs, load average ${loadavg().map(round1).join(' ')}`);
const leader = startLeader();
const serving = await startApiUnder(leader, apiMain);
const stops = [];
const quiet = [];
const renders = [];
let stopping = false;
try {
  const render = renderer(serving.port);
  for (let i = 0; i < 20; i++) await render(); // warm: Chromium's first renders are slower
  let failure;
  const loop = (async () => {
    while (!stopping) {
      renders.push(await render());
      await sleep(15);
    }
  })().catch((error) => (failure = error));
  for (let round = 0; round < ROUNDS && !failure; round++) {
    for (const [placement, place] of Object.entries(PLACEMENTS)) {
      // A quiet second with nothing else running: what the serving API's renders take alone.
      const quietFrom = performance.now();
      await sleep(1_000);
      quiet.push({ from: quietFrom, to: performance.now() });
      const startedAt = performance.now();
      const other = await startApiUnder(leader, apiMain, {}, place);
      const renderThere = renderer(other.port);
      for (let i = 0; i < 20; i++) await renderThere();
      // A random pause, so that the stop falls anywhere in the serving API's renders.
      await sleep(800 + Math.random() * 400);
      const signalAt = performance.now();
      await leader.kill(other.pid, 'SIGTERM', 30_000);
      stops.push({ placement, startedAt, signalAt, exitedAt: performance.now() });
    }
  }
  stopping = true;
  await loop;
  if (failure) throw failure;
} finally {
  stopping = true;
  await leader.kill(serving.pid, 'SIGTERM', 30_000).catch((error) => log(`the serving API did not exit on SIGTERM: ${error.message}`));
  await leader.close();
}

const overlaps = (r, from, to) => r.ended > from && r.started < to;
const alone = renders.filter((r) => quiet.some((q) => r.started >= q.from && r.ended <= q.to));
const baseline = quantile(alone.map((r) => r.ended - r.started), 0.5);
const rows = Object.keys(PLACEMENTS).map((placement) => {
  const mine = stops.filter((s) => s.placement === placement);
  const ratios = renders.filter((r) => mine.some((s) => overlaps(r, s.signalAt, s.exitedAt))).map((r) => (r.ended - r.started) / baseline);
  const ratio = (q) => (ratios.length ? Math.round(quantile(ratios, q) * 100) / 100 : null);
  return {
    placement, stops: mine.length, stopMsMedian: Math.round(quantile(mine.map((s) => s.exitedAt - s.signalAt), 0.5)),
    renders: ratios.length, medianVsQuiet: ratio(0.5), p90VsQuiet: ratio(0.9), maxVsQuiet: ratios.length ? Math.round(Math.max(...ratios) * 100) / 100 : null,
  };
});
log(`\nrenders in the quiet seconds (no second API): ${alone.length}, median ${round1(baseline)} ms`);
log('| the stopping tree | stops | stop took (ms, median) | renders overlapping a stop | median / quiet | p90 / quiet | max / quiet |\n|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) log(`| ${r.placement} | ${r.stops} | ${r.stopMsMedian} | ${r.renders} | ${r.medianVsQuiet} | ${r.p90VsQuiet} | ${r.maxVsQuiet} |`);
process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, rounds: ROUNDS, quietRenders: alone.length, quietMedianMs: round1(baseline), rows }, null, 2)}\n`);
