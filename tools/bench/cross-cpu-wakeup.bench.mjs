#!/usr/bin/env node
// What it costs one process to wake another on the same CPU and on the other one, with that other
// CPU idle or kept busy by a spinner at SCHED_IDLE or nice 19; and, as a check, whether a spinner on
// the other CPU slows pure arithmetic on this one (it would if the two CPUs shared one core).
//
// A QC render hops between processes all the time (node, Chromium's browser, its renderer, over
// pipes and IPC), so it pays for every wakeup. Two processes pass one byte back and forth over two
// pipes with blocking reads, each pinned with taskset; the conditions take turns in rounds.
//
//   node tools/bench/cross-cpu-wakeup.bench.mjs [--trips 20000] [--rounds 3]
//
// Prints a table on stderr and one JSON object on stdout. Linux only (taskset and chrt, util-linux).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nearestRank } from './p99-floor.mjs';
import { SPIN, untilSpinning } from './spinner.mjs';

const { values } = parseArgs({ options: { trips: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } } });
const TRIPS = Number(values.trips);
const ROUNDS = Number(values.rounds);
for (const [name, value] of [['--trips', TRIPS], ['--rounds', ROUNDS]]) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, not ${value}`);
}
if (cpus().length < 2) {
  console.error('this bench needs at least 2 CPUs');
  process.exit(2);
}
for (const tool of ['taskset', 'chrt']) {
  if (spawnSync(tool, ['--version']).error) {
    console.error(`${tool} (util-linux) is missing`);
    process.exit(2);
  }
}

// fd 3: read, fd 4: write. The pinger times TRIPS round trips and prints microseconds per trip.
const PONG = `const fs = require('node:fs'); const b = Buffer.alloc(1); for (;;) { if (fs.readSync(3, b) === 0) break; fs.writeSync(4, b); }`;
const PING = `const fs = require('node:fs'); const b = Buffer.alloc(1); const n = ${TRIPS};
for (let i = 0; i < 2000; i++) { fs.writeSync(4, b); fs.readSync(3, b); }
const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) { fs.writeSync(4, b); fs.readSync(3, b); }
process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1000 / n));`;
const ALU = `function w() { let x = 0; for (let i = 0; i < 2e8; i++) x = (x * 1103515245 + 12345) | 0; return x; }
w(); const t = process.hrtime.bigint(); w(); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;

function run(cpu, script) {
  return spawn('taskset', ['-c', String(cpu), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
}
// A measurement that does not end (a pinned process that could not start leaves the other
// blocked on its FIFO) is killed with its process group after DEADLINE_MS.
const DEADLINE_MS = 120_000;
const output = (child) => new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    reject(new Error(`a measurement did not end within ${DEADLINE_MS} ms`));
  }, DEADLINE_MS);
  child.stdout.on('data', (c) => (out += c));
  child.once('error', reject);
  child.once('exit', (code) => {
    clearTimeout(timer);
    if (code === 0) resolve(Number(out));
    else reject(new Error(`a pinned process exited with ${code}`));
  });
});

const dirs = [];
async function roundTrip(cpuA, cpuB) {
  // Two FIFOs, a -> b and b -> a, as fds 3 (read) and 4 (write) of each process.
  const dir = mkdtempSync(join(tmpdir(), 'cross-cpu-wakeup-'));
  dirs.push(dir);
  for (const fifo of ['ab', 'ba']) {
    const made = spawnSync('mkfifo', [join(dir, fifo)], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mkfifo ${join(dir, fifo)}: ${made.stderr || made.error?.message}`);
  }
  const script = `taskset -c ${cpuB} "$1" -e "$2" 3<"$0/ab" 4>"$0/ba" & exec taskset -c ${cpuA} "$1" -e "$3" 4>"$0/ab" 3<"$0/ba"`;
  return output(spawn('sh', ['-c', script, dir, process.execPath, PONG, PING], { stdio: ['ignore', 'pipe', 'inherit'], detached: true }));
}

const SPINNERS = {
  none: undefined,
  'SCHED_IDLE spinner': ['chrt', ['--idle', '0', 'taskset', '-c', '1', process.execPath, '-e', SPIN]],
  'nice 19 spinner': ['nice', ['-n', '19', 'taskset', '-c', '1', process.execPath, '-e', SPIN]],
};
const PAIRS = { 'same CPU (0 and 0)': [0, 0], 'two CPUs (0 and 1)': [0, 1] };

const samples = {};
const alu = { alone: [], 'SCHED_IDLE spinner': [], 'nice 19 spinner': [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [spinnerName, command] of Object.entries(SPINNERS)) {
      const spinner = command ? spawn(command[0], command[1], { stdio: 'ignore' }) : undefined;
      if (spinner) await untilSpinning(spinner.pid);
      try {
        for (const [pairName, [a, b]] of Object.entries(PAIRS)) {
          (samples[`${pairName}, CPU 1: ${spinnerName}`] ??= []).push(await roundTrip(a, b));
        }
        alu[spinner ? spinnerName : 'alone'].push(await output(run(0, ALU)));
      } finally {
        if (spinner) {
          spinner.kill('SIGKILL');
          await new Promise((resolve) => (spinner.exitCode !== null || spinner.signalCode !== null ? resolve() : spinner.once('exit', resolve)));
        }
      }
    }
  }
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

// Nearest rank, as restart-bench takes its percentiles: for an odd count (3 rounds), the middle one.
const median = (xs) => nearestRank([...xs].sort((x, y) => x - y), 0.5);
const round1 = (x) => Math.round(x * 10) / 10;
const rows = Object.entries(samples).map(([condition, xs]) => ({ condition, roundTripUs: round1(median(xs)), runs: xs.map(round1) }));
const aluRows = Object.entries(alu).map(([condition, xs]) => ({ condition, ms: Math.round(median(xs)), runs: xs.map(Math.round) }));
const lines = ['| two processes, one byte back and forth | round trip (µs, median of rounds) |', '|---|---:|'];
for (const r of rows) lines.push(`| ${r.condition} | ${r.roundTripUs} |`);
lines.push('', '| arithmetic on CPU 0 (2e8 steps) | ms (median of rounds) |', '|---|---:|');
for (const r of aluRows) lines.push(`| CPU 1: ${r.condition} | ${r.ms} |`);
process.stderr.write(`${lines.join('\n')}\n`);
process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), trips: TRIPS, rounds: ROUNDS, roundTrips: rows, arithmetic: aluRows }, null, 2)}\n`);
