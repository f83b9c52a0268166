#!/usr/bin/env node
// Runs a command several times in a row while another process keeps every core busy.
//
//   node tools/scripts/under-busy-cores.mjs [--rounds 5] [--threads <cores>] -- <command> [args...]
//
// The hog is one process of its own (a session of its own, nice 0) with one spinning
// worker thread per core: the tests under it compete with a real neighbour for the CPU,
// scheduling groups included. Every round runs to its end (a failed round does not stop
// the next one); the script prints one line per round, then a JSON summary, and exits 1
// when any round failed. The hog is killed by its pid when the rounds are over, on
// Ctrl-C and on SIGTERM.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const dash = process.argv.indexOf('--');
if (dash < 0 || dash === process.argv.length - 1) {
  console.error('usage: under-busy-cores.mjs [--rounds 5] [--threads N] -- <command> [args...]');
  process.exit(2);
}
const { values } = parseArgs({
  args: process.argv.slice(2, dash),
  options: { rounds: { type: 'string', default: '5' }, threads: { type: 'string', default: String(cpus().length) } },
});
const rounds = Number(values.rounds);
const threads = Number(values.threads);
for (const [name, n] of [['--rounds', rounds], ['--threads', threads]]) {
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a whole number of at least 1, got ${name === '--rounds' ? values.rounds : values.threads}`);
    process.exit(2);
  }
}
const [command, ...args] = process.argv.slice(dash + 1);

const spin = `const { Worker } = require('node:worker_threads');
for (let i = 0; i < ${threads}; i++) new Worker('for (;;) {}', { eval: true });`;
const hog = spawn(process.execPath, ['-e', spin], { stdio: 'ignore', detached: true });
const stopHog = () => {
  try {
    process.kill(hog.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};
process.on('exit', stopHog);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** CPU time (utime + stime, in clock ticks) of the hog, from /proc. */
async function hogTicks() {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${hog.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const results = [];
for (let round = 1; round <= rounds; round++) {
  const started = Date.now();
  const ticksBefore = await hogTicks();
  const code = await new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    child.on('error', (err) => {
      console.error(`cannot run ${command}: ${err.message}`);
      resolve(127);
    });
  });
  const seconds = (Date.now() - started) / 1000;
  // clock ticks are 1/100 s on Linux: the hog's share of one core over the round
  const hogCores = ((await hogTicks()) - ticksBefore) / 100 / seconds;
  results.push({ round, exitCode: code, seconds: Math.round(seconds), hogCores: Number(hogCores.toFixed(2)), loadavg1: Number(loadavg()[0].toFixed(1)) });
  console.error(`under-busy-cores: round ${round}/${rounds} ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${Math.round(seconds)} s; the hog used ${hogCores.toFixed(2)} cores, load average ${loadavg()[0].toFixed(1)}`);
}
// The hog is a child of ours: kill it now, or this process would wait for it forever.
stopHog();
const failed = results.filter((r) => r.exitCode !== 0).length;
console.log(JSON.stringify({ command: [command, ...args].join(' '), threads, rounds: results, passed: rounds - failed, failed }));
process.exitCode = failed ? 1 : 0;
