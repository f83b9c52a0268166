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
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SPIN, untilSpinning } from './spinner.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
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

// The session's leader: started in a session of its own, it starts the API and the spinners as
// its children (so all of them share its session, hence one scheduling group), and kills a spinner
// by its pid when told. Commands on stdin, one per line, as JSON; answers on stdout.
const LEADER = `
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const children = new Map();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'spawn') {
    const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, env: cmd.env, stdio: cmd.output ? ['ignore', 'pipe', 'pipe'] : 'ignore' });
    children.set(child.pid, child);
    if (cmd.output) for (const s of [child.stdout, child.stderr]) s.on('data', (c) => process.stdout.write(JSON.stringify({ pid: child.pid, out: String(c) }) + '\\n'));
    child.once('exit', () => { children.delete(child.pid); process.stdout.write(JSON.stringify({ exited: child.pid, id: cmd.id }) + '\\n'); });
    process.stdout.write(JSON.stringify({ started: child.pid, id: cmd.id }) + '\\n');
  } else if (cmd.op === 'kill') {
    children.get(cmd.pid)?.kill(cmd.signal);
  }
});
// Our parent went away (or closed stdin): SIGTERM lets the API close its Chromium; SIGKILL after 20 s.
process.stdin.once('end', () => {
  const done = () => children.size === 0 && process.exit(0);
  for (const c of children.values()) { c.once('exit', () => setImmediate(done)); c.kill('SIGTERM'); }
  setTimeout(() => { for (const c of children.values()) c.kill('SIGKILL'); process.exit(0); }, 20_000).unref();
  done();
});
`;

function startLeader() {
  const leader = spawn(process.execPath, ['-e', LEADER], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  const events = [];
  const waiters = [];
  let buffered = '';
  leader.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const event = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      events.push(event);
      for (const w of [...waiters]) if (w.test(event)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(event); }
    }
  });
  let nextId = 0;
  const until = (what, test, ms) => new Promise((resolve, reject) => {
    const found = events.find(test);
    if (found) return resolve(found);
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    waiters.push({ test, resolve: (e) => { clearTimeout(timer); resolve(e); } });
  });
  const send = (cmd) => leader.stdin.write(`${JSON.stringify(cmd)}\n`);
  return {
    events,
    async spawn(file, args, options = {}) {
      const id = nextId++;
      send({ op: 'spawn', id, file, args, cwd: root, env: options.env ?? process.env, output: options.output ?? false });
      return (await until(`start of ${file}`, (e) => e.id === id && e.started, 10_000)).started;
    },
    async kill(pid, signal, waitMs = 20_000) {
      send({ op: 'kill', pid, signal });
      await until(`exit of ${pid}`, (e) => e.exited === pid, waitMs);
    },
    output: (pid) => events.filter((e) => e.pid === pid).map((e) => e.out).join(''),
    async close() {
      leader.stdin.end();
      await new Promise((resolve) => (leader.exitCode !== null ? resolve() : leader.once('exit', resolve)));
    },
  };
}

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
  const [apiFile, apiArgs] = onCpu(0, [process.execPath, [apiMain]]);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', HOST: '127.0.0.1', PORT: '0', QC_ENABLED: 'true', LOG_FORMAT: 'text', LOG_LEVEL: 'info', ...(chromeNice === undefined ? {} : { QC_CHROME_NICE: String(chromeNice) }) };
  const apiPid = await leader.spawn(apiFile, apiArgs, { env, output: true });
  try {
    const deadline = Date.now() + 60_000;
    let port;
    while (!(port = /listening on http:\/\/[^\s:]+:(\d+)/.exec(leader.output(apiPid))?.[1])) {
      if (Date.now() > deadline) throw new Error(`the API did not listen within 60 s:\n${leader.output(apiPid)}`);
      if (leader.events.some((e) => e.exited === apiPid)) throw new Error(`the API exited during start-up:\n${leader.output(apiPid)}`);
      await sleep(50);
    }
    let n = 0;
    const render = async () => {
      const i = n++;
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/qc/check`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        // Distinct lessons: the result cache never answers.
        body: JSON.stringify({ html: `<main><h1>Lesson ${i}</h1><p>Fractions, part ${i}.</p></main>` }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`POST /qc/check answered ${res.status}`);
      return performance.now() - started;
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

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const round1 = (x) => Math.round(x * 10) / 10;

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
