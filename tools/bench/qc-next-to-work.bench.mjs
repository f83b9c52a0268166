#!/usr/bin/env node
// What any other work on the machine costs a QC render, whatever its priority (issue 15: the
// renders of the old process stay 1.2-1.4 times slower through a successor's start, although the
// start runs at SCHED_IDLE). The built API renders short lessons one after another while one
// spinner keeps another CPU busy, or none does; conditions take turns in rounds.
//
// Each spinner runs in the API's own session, so in its scheduling group as a successor does, and
// is either SCHED_IDLE (a successor's start), nice 19 at SCHED_OTHER, or SCHED_IDLE streaming
// memory instead of spinning in registers. A second phase pins the API (and its Chromium) to CPU 0
// and the spinners to CPU 1: if a render is as fast there with a spinner as without, what the two
// CPUs share (a core, its caches, the hypervisor's time) costs it nothing measurable.
//
//   npx nx build api && node tools/bench/qc-next-to-work.bench.mjs [--rounds 8] [--renders 10] [--chrome-nices 19,0] [--skip-pinned]
//
// --chrome-nices runs every phase once per QC_CHROME_NICE of the API (its Chromium's nice value).
//
// Prints a table on stderr and one JSON object on stdout. Linux only (chrt and taskset, util-linux).
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { quantile, renderer, root, round1, startApiUnder, startLeader } from './session-leader.mjs';
import { SPIN, untilSpinning } from './spinner.mjs';
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    renders: { type: 'string', default: '10' },
    // The API's QC_CHROME_NICE, one phase each (default: the API's own default only).
    'chrome-nices': { type: 'string', default: '' },
    // Leave out the pinned phase.
    'skip-pinned': { type: 'boolean', default: false },
  },
});
const CHROME_NICES = values['chrome-nices'] === '' ? [undefined] : values['chrome-nices'].split(',').map(Number);
for (const nice of CHROME_NICES) {
  if (nice !== undefined && !(Number.isInteger(nice) && nice >= 0 && nice <= 19)) throw new Error(`--chrome-nices: ${nice} is not a nice value from 0 to 19`);
}
const ROUNDS = Number(values.rounds);
const RENDERS = Number(values.renders);
for (const [name, value] of [['--rounds', ROUNDS], ['--renders', RENDERS]]) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, not ${value}`);
}
const apiMain = join(root, 'dist/apps/api/main.js');
if (!existsSync(apiMain)) {
  console.error(`${apiMain} is missing: run \`npx nx build api\` first`);
  process.exit(2);
}
if (cpus().length < 2) {
  console.error('this bench needs at least 2 CPUs: a spinner on one, the render on the other');
  process.exit(2);
}
const log = (line) => process.stderr.write(`${line}\n`);

const MEM = 'const b=new Float64Array(4e6);for(;;){for(let i=0;i<b.length;i+=8)b[i]++}';
const SPINNERS = {
  none: undefined,
  'SCHED_IDLE, spinning': ['chrt', ['--idle', '0', process.execPath, '-e', SPIN]],
  'nice 19, spinning': ['nice', ['-n', '19', process.execPath, '-e', SPIN]],
  'SCHED_IDLE, streaming memory': ['chrt', ['--idle', '0', process.execPath, '-e', MEM]],
};

async function phase(pinned, chromeNice) {
  const leader = startLeader();
  const onCpu = (cpu, [file, args]) => (pinned ? ['taskset', ['-c', String(cpu), file, ...args]] : [file, args]);
  const { pid: apiPid, port } = await startApiUnder(leader, apiMain, chromeNice === undefined ? {} : { QC_CHROME_NICE: String(chromeNice) }, (file, args) => onCpu(0, [file, args]));
  try {
    const renderOnce = renderer(port);
    const render = async () => {
      const { started, ended } = await renderOnce();
      return ended - started;
    };
    for (let i = 0; i < 20; i++) await render(); // warm: Chromium's first renders are slower
    const samples = Object.fromEntries(Object.keys(SPINNERS).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, command] of Object.entries(SPINNERS)) {
        const spinner = command ? await leader.spawn(...onCpu(1, command)) : undefined;
        if (spinner) await untilSpinning(spinner);
        try {
          for (let k = 0; k < RENDERS; k++) {
            samples[name].push(await render());
            await sleep(60);
          }
        } finally {
          if (spinner) await leader.kill(spinner, 'SIGKILL');
        }
      }
    }
    return samples;
  } finally {
    await leader.kill(apiPid, 'SIGTERM', 30_000).catch((error) => log(`the API did not exit on SIGTERM: ${error.message}`));
    await leader.close();
  }
}

log(`qc-next-to-work: ${ROUNDS} rounds of ${RENDERS} renders per condition, ${cpus().length} CPUs, load average ${loadavg().map(round1).join(' ')}`);
const rows = [];
for (const pinned of values['skip-pinned'] ? [false] : [false, true]) for (const chromeNice of CHROME_NICES) {
  const about = chromeNice === undefined ? '' : `, QC_CHROME_NICE=${chromeNice}`;
  log(`${pinned ? 'the API and its Chromium on CPU 0, each spinner on CPU 1' : 'unpinned'}${about} ...`);
  const samples = await phase(pinned, chromeNice);
  const idleMedian = quantile(samples.none, 0.5);
  for (const [spinner, values] of Object.entries(samples)) {
    const median = quantile(values, 0.5);
    rows.push({ pinned, chromeNice: chromeNice ?? 'default', spinner, renders: values.length, medianMs: round1(median), p90Ms: round1(quantile(values, 0.9)), maxMs: round1(Math.max(...values)), medianVsNone: Math.round((median / idleMedian) * 100) / 100 });
  }
}
log('\n| placement | Chromium nice | the other CPU | renders | median (ms) | p90 (ms) | max (ms) | median / none |\n|---|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) log(`| ${r.pinned ? 'API on CPU 0, spinner on CPU 1' : 'unpinned'} | ${r.chromeNice} | ${r.spinner} | ${r.renders} | ${r.medianMs} | ${r.p90Ms} | ${r.maxMs} | ${r.medianVsNone} |`);
process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, rounds: ROUNDS, rendersPerRound: RENDERS, rows }, null, 2)}\n`);
