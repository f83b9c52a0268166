#!/usr/bin/env node
// What a hot handoff's signal costs the render in flight when it arrives (issue 15). The signal
// has the prepared successor exec node, and its start can be stopped for the old process's
// renders (HANDOFF_START_YIELD) only once it runs node: the exec and what comes before that stop
// run beside the render.
//
// Per variant (side by side in one run): one API of the build; renders one after another with
// 150 ms between them; --handoffs times, six quiet renders, then one render with SIGHUP 5 ms after
// it began, then the successor's ready and the old process's exit. Each render at the signal is
// compared with the median of that variant's quiet renders.
//
//   npx nx build api && node tools/bench/signal-render.bench.mjs [--handoffs 8] [--variant name:KEY=value,...]
//
// Without --variant: `yield` (the defaults) and `off` (HANDOFF_START_YIELD=false). A variant's
// BENCH_API_MAIN=<main.js> starts that build of the API instead of dist/apps/api/main.js.
// Prints a table on stderr and one JSON object on stdout. Linux only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { live, quantile, renderer, root, round1, startJsonApi, stopApi, until } from './session-leader.mjs';

const { values } = parseArgs({ options: { handoffs: { type: 'string', default: '8' }, variant: { type: 'string', multiple: true, default: [] } } });
const HANDOFFS = Number(values.handoffs);
if (!Number.isInteger(HANDOFFS) || HANDOFFS < 1) throw new Error(`--handoffs must be a whole number of at least 1, not ${values.handoffs}`);
const VARIANTS = (values.variant.length > 0 ? values.variant : ['yield:', 'off:HANDOFF_START_YIELD=false']).map((spec) => {
  const m = /^([\w-]+):(.*)$/.exec(spec);
  if (!m) throw new Error(`--variant ${spec}: expected name:KEY=value,...`);
  const env = {};
  for (const pair of m[2].split(',').filter(Boolean)) {
    const kv = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!kv) throw new Error(`--variant ${spec}: ${pair} is not KEY=value`);
    env[kv[1]] = kv[2];
  }
  return { name: m[1], env };
});
const apiMain = join(root, 'dist/apps/api/main.js');
if (!existsSync(apiMain)) {
  console.error(`${apiMain} is missing: run \`npx nx build api\` first`);
  process.exit(2);
}

async function measure(variant) {
  // BENCH_API_MAIN in a variant starts another build (e.g. a copy of dist/apps/api from before a change).
  const { BENCH_API_MAIN: main = apiMain, ...env } = variant.env;
  if (!existsSync(main)) throw new Error(`variant ${variant.name}: ${main} does not exist`);
  const { api, lines, port } = await startJsonApi(main, env);
  const readies = () => lines.filter((l) => l.msg === 'phase ready');
  let serving = api.pid;
  const quiet = [];
  const atSignal = [];
  try {
    const render = renderer(port);
    const timed = async () => {
      const { started, ended } = await render();
      return ended - started;
    };
    for (let i = 0; i < 3; i += 1) await timed(); // the first renders of a new browser
    for (let h = 0; h < HANDOFFS; h += 1) {
      for (let i = 0; i < 6; i += 1) {
        quiet.push(await timed());
        await sleep(150);
      }
      const before = readies().length;
      const inFlight = timed();
      await sleep(5);
      process.kill(serving, 'SIGHUP');
      atSignal.push(await inFlight);
      await until(() => readies().length > before, 30_000, `handoff ${h + 1}: no successor ready`);
      const old = serving;
      serving = readies().at(-1).pid;
      await until(() => !live(old), 20_000, `old process ${old} did not exit`);
      await sleep(150);
    }
  } finally {
    await stopApi(serving);
  }
  const median = quantile(quiet, 0.5);
  return { variant: variant.name, env: variant.env, quietMedianMs: round1(median), atSignalMs: atSignal.map(round1), ratios: atSignal.map((ms) => Math.round((ms / median) * 100) / 100) };
}

const results = [];
for (const variant of VARIANTS) results.push(await measure(variant));
console.error('| variant | quiet renders, median (ms) | renders in flight at the signal (ms) | their ratio to the median: median / max |');
console.error('|---|---:|---|---:|');
for (const r of results) console.error(`| ${r.variant} | ${r.quietMedianMs} | ${r.atSignalMs.join(', ')} | ${quantile(r.ratios, 0.5)} / ${Math.max(...r.ratios)} |`);
console.log(JSON.stringify({ handoffs: HANDOFFS, results }));
