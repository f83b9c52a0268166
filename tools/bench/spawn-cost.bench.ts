#!/usr/bin/env node
// How long child_process.spawn holds a node process's event loop, by the size of that
// process: libuv forks on Linux (the parent's page tables are copied) and waits until the
// child has exec'd. This is what a hot handoff's old process pays at the signal.
//
//   node tools/bench/spawn-cost.bench.mjs [--ballast 0,100,200,400] [--spawns 20]
//
// Each ballast size runs in a process of its own (node, plus that many MB of touched
// buffers), which spawns `node -e 0` --spawns times, one after the other. JSON on stdout, a
// table on stderr.
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { ballast: { type: 'string', default: '0,100,200,400' }, spawns: { type: 'string', default: '20' }, child: { type: 'string' } } });

if (values.child !== undefined) {
  const ballast = [];
  for (let i = 0; i < Number(values.child); i += 1) ballast.push(Buffer.alloc(1 << 20, 1));
  const times = [];
  for (let i = 0; i < Number(values.spawns); i += 1) {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    await new Promise((resolve) => child.once('exit', resolve));
  }
  times.sort((a, b) => a - b);
  const at = (q) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 100) / 100;
  process.stdout.write(JSON.stringify({ ballastMb: Number(values.child), rssMb: Math.round(process.memoryUsage().rss / 1e6), spawns: times.length, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: at(1) }));
  ballast.length = 0;
} else {
  const rows = values.ballast.split(',').map((mb) => {
    const run = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', mb, '--spawns', values.spawns], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`ballast ${mb} MB: ${run.stderr}`);
    return JSON.parse(run.stdout);
  });
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
  process.stderr.write(`| ballast (MB) | RSS (MB) | spawns | spawn() held the loop p50 / p90 / max (ms) |\n|---:|---:|---:|---:|\n`);
  for (const r of rows) process.stderr.write(`| ${r.ballastMb} | ${r.rssMb} | ${r.spawns} | ${r.p50Ms} / ${r.p90Ms} / ${r.maxMs} |\n`);
}
