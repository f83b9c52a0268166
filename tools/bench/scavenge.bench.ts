// What the API's HTTP stack leaves to V8's young-generation collector (the scavenge), served two
// ways side by side, in turns (cause 14 in tools/bench/README.md):
//   - "plain": node:http's own request and response classes. Express 5 gives each object its app's
//     prototypes as it takes it (`Object.setPrototypeOf` in `app.handle`);
//   - "app": the API's messageClassesFor, objects born with those prototypes (what the API does).
// The server (scavenge-server.ts) is Nest on Express 5 through the API's createHttpServer with one
// GET route; the load is the restart bench's open-loop generator in a process of its own, 32
// keep-alive clients. After a warm-up, each round measures: scavenges per second, their pause
// (mean, max), what each one copied and promoted (V8's --trace-gc-nvp), and the requests' p50 and
// p99 (from their scheduled time, so a pause counts for every request it held up).
//
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/scavenge.bench.ts [--rate 250] [--seconds 10] [--rounds 2] [--warmup 3]
//
// 250 req/s is what each of the two instances serves in the restart bench at 500 req/s.
// Prints a table on stderr and JSON on stdout.
import { startLoadProcess, STATS_ONLY, stopProcesses, waitFor, windowStats } from '@edu-agents/e2e-support';
import { parseScavenges } from './gc-trace';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '250' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const WARMUP = Number(values.warmup);
for (const [name, value] of Object.entries({ rate: RATE, seconds: SECONDS, rounds: ROUNDS, warmup: WARMUP })) {
  if (!Number.isFinite(value) || value < (name === 'warmup' ? 0 : 1)) throw new Error(`--${name} must be a number ${name === 'warmup' ? '>= 0' : '>= 1'} (got ${values[name as keyof typeof values]})`);
}
const MODES = ['plain', 'app'] as const;
type Mode = (typeof MODES)[number];
const SERVER = join(__dirname, 'scavenge-server.ts');
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Round {
  mode: Mode;
  round: number;
  requests: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  scavengesPerSec: number;
  pauseMeanMs: number;
  pauseMaxMs: number;
  survivedMeanKb: number;
  promotedKbPerSec: number;
  sendLagP99Ms: number;
}

async function startServer(mode: Mode): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', SERVER], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SWC_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.base.json'), MESSAGES: mode },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`the ${mode} server exited during start-up (${signal ?? `code ${code}`}):\n${output}`))));
  exited.catch(() => undefined);
  const listening = waitFor(`the ${mode} server to listen`, () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1], 60_000);
  const port = Number(await Promise.race([listening, exited]));
  return { child, port, output: () => output };
}

async function measure(mode: Mode, round: number): Promise<Round> {
  const server = await startServer(mode);
  try {
    const load = await startLoadProcess({ port: server.port, ratePerSec: RATE, maxDurationMs: (WARMUP + SECONDS + 30) * 1_000, baseClients: 32, maxClients: 2_048, mix: STATS_ONLY });
    // The measured window starts after the warm-up, by the load's clock and by the server's.
    await waitFor('the warm-up to end', () => (load.elapsed() >= WARMUP * 1_000 ? true : undefined), (WARMUP + 30) * 1_000);
    server.child.send('mark');
    const markMs = await waitFor('the server to mark the window', () => {
      const match = /\{"mark":(\d+(?:\.\d+)?)\}/.exec(server.output());
      return match ? Number(match[1]) : undefined;
    }, 10_000);
    const fromMs = load.elapsed();
    await waitFor('the measured window to end', () => (load.elapsed() >= fromMs + SECONDS * 1_000 ? true : undefined), (SECONDS + 30) * 1_000);
    load.stop();
    const report = await load.done;
    const window = windowStats(mode, report.run.records.filter((r) => r.scheduledMs >= fromMs && r.scheduledMs < fromMs + SECONDS * 1_000));
    const scavenges = parseScavenges(server.output()).filter((s) => s.atMs >= markMs && s.atMs < markMs + SECONDS * 1_000);
    const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return {
      mode, round, requests: window.requests, failed: window.failed, p50Ms: window.p50Ms, p99Ms: window.p99Ms, maxMs: window.maxMs,
      scavengesPerSec: r1(scavenges.length / SECONDS),
      pauseMeanMs: r1(mean(scavenges.map((s) => s.pauseMs))), pauseMaxMs: r1(Math.max(0, ...scavenges.map((s) => s.pauseMs))),
      survivedMeanKb: Math.round(mean(scavenges.map((s) => s.survivedBytes)) / 1024),
      promotedKbPerSec: Math.round(scavenges.reduce((a, s) => a + s.promotedBytes, 0) / 1024 / SECONDS),
      sendLagP99Ms: r1(report.sendLag.p99Ms),
    };
  } finally {
    if (server.child.pid !== undefined) await stopProcesses([server.child.pid]);
  }
}

async function main(): Promise<void> {
  const rounds: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Taking turns, and the other order in the next round: a busy neighbour costs both alike.
    for (const mode of round % 2 === 1 ? MODES : [...MODES].reverse()) {
      log(`round ${round}: ${mode} at ${RATE} req/s for ${SECONDS} s ...`);
      rounds.push(await measure(mode, round));
    }
  }
  log(`\n| set-up | round | requests | failed | p50 / p99 / max (ms) | scavenges/s | pause mean / max (ms) | copied per scavenge (KB) | promoted (KB/s) | send lag p99 (ms) |`);
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rounds) {
    log(`| ${r.mode} | ${r.round} | ${r.requests} | ${r.failed} | ${r.p50Ms} / ${r.p99Ms} / ${r.maxMs} | ${r.scavengesPerSec} | ${r.pauseMeanMs} / ${r.pauseMaxMs} | ${r.survivedMeanKb} | ${r.promotedKbPerSec} | ${r.sendLagP99Ms} |`);
  }
  process.stdout.write(`${JSON.stringify({ rate: RATE, seconds: SECONDS, warmup: WARMUP, rounds }, null, 2)}\n`);
}

if (require.main === module) {
  main().catch((error: Error) => {
    log(`scavenge.bench: ${error.message}`);
    process.exit(1);
  });
}
