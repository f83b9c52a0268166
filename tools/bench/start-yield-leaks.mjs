#!/usr/bin/env node
// Does a successor's start run while it is stopped for the old process's renders
// (HANDOFF_START_YIELD)? Chromium starts most helpers from threads other than its main one, and
// the stop finds them by the main threads' children files and a walk of the whole tree every
// 500 ms, so a helper started between two walks could run on beside a render.
//
// One API of the build, renders at --qc-per-sec from this process, and --handoffs SIGHUPs one
// after another. During each start this reads /proc every 5 ms; whenever the successor's node is
// stopped (state T) it notes which of its descendants are not, and the CPU ticks those gained
// between two such reads (at most 20 ms apart): what the stop let run.
//
//   npx nx build api && node tools/bench/start-yield-leaks.mjs [--handoffs 3] [--qc-per-sec 5]
//
// Prints a table on stderr and one JSON object on stdout. Linux only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { descendantsIn, live, processTable, renderer, root, startJsonApi, stopApi, until } from './session-leader.mjs';

const { values } = parseArgs({ options: { handoffs: { type: 'string', default: '3' }, 'qc-per-sec': { type: 'string', default: '5' } } });
const HANDOFFS = Number(values.handoffs);
const QC_PER_SEC = Number(values['qc-per-sec']);
if (!Number.isInteger(HANDOFFS) || HANDOFFS < 1) throw new Error(`--handoffs must be a whole number of at least 1, not ${values.handoffs}`);
if (!(QC_PER_SEC > 0 && QC_PER_SEC <= 10)) throw new Error(`--qc-per-sec must be above 0 and at most 10, not ${values['qc-per-sec']}`);
const apiMain = join(root, 'dist/apps/api/main.js');
if (!existsSync(apiMain)) {
  console.error(`${apiMain} is missing: run \`npx nx build api\` first`);
  process.exit(2);
}
const SAMPLE_MS = 5;
const START_DEADLINE_MS = 30_000;

const { api, lines, port } = await startJsonApi(apiMain);
const readyCount = () => lines.filter((l) => l.msg === 'phase ready').length;
let serving = api.pid;
const rounds = [];
let renders = 0;
let stopRendering = false;
let rendering;
try {
  const render = renderer(port);
  rendering = (async () => {
    while (!stopRendering) {
      const began = performance.now();
      await render();
      renders += 1;
      await sleep(Math.max(0, 1000 / QC_PER_SEC - (performance.now() - began)));
    }
  })();
  await sleep(2_000);
  for (let round = 0; round < HANDOFFS; round += 1) {
    const before = readyCount();
    process.kill(serving, 'SIGHUP');
    const began = Date.now();
    let successor;
    let previous;
    const result = { stoppedReads: 0, readsWithOthersUnstopped: 0, readsWithOthersRunning: 0, ticksWhileStopped: 0, byName: {} };
    while (readyCount() === before) {
      if (Date.now() - began > START_DEADLINE_MS) throw new Error(`handoff ${round + 1}: no successor ready within ${START_DEADLINE_MS} ms`);
      const all = processTable();
      successor ??= [...all].find(([, s]) => s.comm === 'node' && s.ppid === serving)?.[0];
      if (successor !== undefined && all.get(successor)?.state === 'T') {
        const loose = descendantsIn(all, successor).filter(([, s]) => s.state !== 'T');
        result.stoppedReads += 1;
        if (loose.length > 0) result.readsWithOthersUnstopped += 1;
        if (loose.some(([, s]) => s.state === 'R')) result.readsWithOthersRunning += 1;
        const now = performance.now();
        if (previous && now - previous.at < 20) {
          for (const [pid, s] of loose) {
            const gained = s.ticks - (previous.ticks.get(pid) ?? s.ticks);
            result.ticksWhileStopped += gained;
            if (gained > 0) result.byName[s.comm] = (result.byName[s.comm] ?? 0) + gained;
          }
        }
        previous = { at: now, ticks: new Map(loose.map(([pid, s]) => [pid, s.ticks])) };
      } else {
        previous = undefined;
      }
      await sleep(SAMPLE_MS);
    }
    const old = serving;
    serving = successor;
    // The old process retires 1.5 s after the switch; the next SIGHUP goes to the successor once it is gone.
    await until(() => !live(old), 20_000, `old process ${old} did not exit`);
    const yielded = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(`successor ${successor} yielded`)).map((l) => l.msg).pop();
    rounds.push({ round: round + 1, successor, ...result, yielded: yielded ?? null });
  }
} finally {
  stopRendering = true;
  await rendering?.catch(() => undefined);
  await stopApi(serving);
}

const tickMs = 1000 / 100; // USER_HZ
console.error('| handoff | reads with the successor stopped | of them, another of its processes not stopped | ... running | CPU those gained while stopped (ms) | by name | the old process said |');
console.error('|---:|---:|---:|---:|---:|---|---|');
for (const r of rounds) console.error(`| ${r.round} | ${r.stoppedReads} | ${r.readsWithOthersUnstopped} | ${r.readsWithOthersRunning} | ${r.ticksWhileStopped * tickMs} | ${Object.entries(r.byName).map(([k, v]) => `${k} ${v * tickMs}`).join(', ') || '-'} | ${r.yielded ?? '-'} |`);
console.log(JSON.stringify({ handoffs: HANDOFFS, qcPerSec: QC_PER_SEC, renders, sampleMs: SAMPLE_MS, userHz: 100, rounds }));
