#!/usr/bin/env node
// Requests/s of an API route with shutdown tracking (the built API: request
// gate + in-flight registry in front of Nest) against the same route on a bare
// NestJS app without it, side by side in one run, measured with autocannon.
// Rounds alternate A/B so drift of a shared machine hits both alike.
//
//   npx nx build api && node tools/bench/shutdown-overhead.bench.mjs [--duration 10] [--rounds 5] [--connections 32]
//
// Prints a table on stderr and one JSON object on stdout. Target: ratio >= 0.95.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const duration = arg('duration', 10);
const rounds = arg('rounds', 5);
const connections = arg('connections', 32);

const apiMain = join(root, 'dist/apps/api/main.js');
if (!existsSync(apiMain)) {
  console.error(`${apiMain} is missing: run \`npx nx build api\` first`);
  process.exit(2);
}

function start(name, script, env) {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} during start-up`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on http:\/\/[^\s:]+:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ name, child, url: `http://127.0.0.1:${match[1]}/qc-stats` });
      }
    });
  });
}

const run = (url, seconds) =>
  new Promise((resolve, reject) =>
    autocannon({ url, connections, duration: seconds, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result))),
  );

// The API logs at warn only; its "listening on" line is info, so keep info for that line.
const targets = [
  await start('api (shutdown tracking)', apiMain, { QC_ENABLED: 'false', LOG_LEVEL: 'info' }),
  await start('bare NestJS', join(root, 'tools/bench/bare-nest/main.js'), {}),
];
const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
try {
  for (const t of targets) await run(t.url, 2); // warm-up: JIT, sockets
  for (let r = 0; r < rounds; r += 1) {
    for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
      const result = await run(t.url, duration);
      samples[t.name].push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors });
      console.error(`round ${r + 1}: ${t.name.padEnd(24)} ${result.requests.average.toFixed(0)} req/s`);
    }
  }
} finally {
  for (const t of targets) t.child.kill('SIGTERM');
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = targets.map((t) => {
  const s = samples[t.name];
  return { name: t.name, rps: Math.round(mean(s.map((x) => x.rps))), p50Ms: mean(s.map((x) => x.p50)), p99Ms: mean(s.map((x) => x.p99)), non2xx: s.reduce((a, x) => a + x.non2xx, 0), errors: s.reduce((a, x) => a + x.errors, 0) };
});
// Each round measures both apps back to back, so the per-round ratio cancels
// most of the machine's drift; the median of those is the headline number.
const roundRatios = samples[targets[0].name].map((a, i) => a.rps / samples[targets[1].name][i].rps).sort((x, y) => x - y);
const ratio = roundRatios[Math.floor(roundRatios.length / 2)];
const result = { bench: 'shutdown-overhead', date: new Date().toISOString(), node: process.version, duration, rounds, connections, route: 'GET /qc-stats', results: summary, roundRatios: roundRatios.map((r) => Number(r.toFixed(3))), ratio: Number(ratio.toFixed(3)), target: 0.95, pass: ratio >= 0.95 };

console.error(`\n| app | req/s | p50 ms | p99 ms | non-2xx | errors |\n|---|---|---|---|---|---|`);
for (const s of summary) console.error(`| ${s.name} | ${s.rps} | ${s.p50Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.non2xx} | ${s.errors} |`);
console.error(`\nper-round ratios (api / bare): ${roundRatios.map((r) => r.toFixed(3)).join(', ')}`);
console.error(`median ratio = ${ratio.toFixed(3)} (target >= 0.95): ${result.pass ? 'met' : 'NOT met'}`);
console.log(JSON.stringify(result));
