// QC pool benchmark: jobs/s, p50/p95 latency, Chrome CPU ms per job and peak RSS of the Chrome
// process tree, at concurrency 1, 2, 4, for this pool (both isolation modes), puppeteer-cluster
// (CONCURRENCY_CONTEXT), a browser per job and plain page reuse; plus cached vs uncached. The pool
// runs once more with Chromium at nice 0 instead of its default 19 (chromeNice): what the priority
// costs a QC job when nothing else competes for the CPU.
// Run: npx nx run qc-chrome-pool:bench   (JSON on stdout, readable table on stderr)
// Env: QC_BENCH_JOBS (jobs per cell, default 30), QC_BENCH_LAUNCH_JOBS (default 6), QC_BENCH_CONCURRENCY (default 1,2,4),
// QC_BENCH_SEGMENTS (default 3): each cell is measured in that many segments, the approaches of a
// concurrency level taking turns (forward, then backward, ...), so that load from other processes on
// a shared machine lands on every approach alike instead of on whichever cell ran at that moment.
import { CLOCK_TICKS_PER_SEC, descendantsOf, listProcs } from '@edu-agents/qc-chrome-pool';
import { pssKb } from '@edu-agents/e2e-support';
import { readFileSync } from 'node:fs';
import { lessonCorpus } from './qc-corpus';
import { clusterRunner, launchPerJobRunner, pageReuseRunner, poolRunner, treeCpuTicks, type BenchRunner } from './qc-bench.runners';

interface Cell { approach: string; concurrency: number; jobs: number; jobsPerSec: number; p50Ms: number; p95Ms: number;
  chromeCpuMsPerJob: number; peakRssMb: number; peakPssMb: number }

const JOBS = Number(process.env['QC_BENCH_JOBS'] ?? 30);
const SEGMENTS = Number(process.env['QC_BENCH_SEGMENTS'] ?? 3);
const LAUNCH_JOBS = Number(process.env['QC_BENCH_LAUNCH_JOBS'] ?? 6);
const LEVELS = (process.env['QC_BENCH_CONCURRENCY'] ?? '1,2,4').split(',').map(Number);
const corpus = lessonCorpus(20);

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;

/** Samples the Chrome tree every 100 ms; stop() returns peak summed RSS and peak summed PSS. */
function memorySampler(): { stop: () => { rss: number; pss: number } } {
  const peak = { rss: 0, pss: 0 };
  const sample = () => {
    const procs = descendantsOf(process.pid, listProcs());
    peak.rss = Math.max(peak.rss, procs.reduce((s, p) => s + p.rssBytes, 0));
    peak.pss = Math.max(peak.pss, procs.reduce((s, p) => s + pssKb(p.pid) * 1024, 0));
  };
  const timer = setInterval(sample, 100);
  sample();
  return { stop: () => (clearInterval(timer), sample(), peak) };
}

let serial = 0;
const unique = (html: string) => `${html}\n<!-- bench job ${(serial += 1)} -->`; // defeats the result cache

async function runLanes(runner: BenchRunner, concurrency: number, inputs: string[]): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
    while (next < inputs.length) {
      const html = inputs[next++];
      const started = performance.now();
      await runner.job(html, lane);
      latencies.push(performance.now() - started);
    }
  }));
  return latencies;
}

interface Segment { jobs: number; wallMs: number; cpuTicks: number; latencies: number[]; peakRss: number; peakPss: number }

async function measureSegment(runner: BenchRunner, concurrency: number, jobs: number): Promise<Segment> {
  await runner.start(concurrency);
  try {
    await runLanes(runner, concurrency, corpus.slice(0, concurrency).map(unique)); // warm-up, not timed
    const inputs = Array.from({ length: jobs }, (_, i) => unique(corpus[(serial + i) % corpus.length]));
    const memory = memorySampler();
    const cpuBefore = treeCpuTicks();
    const started = performance.now();
    const latencies = await runLanes(runner, concurrency, inputs);
    const wallMs = performance.now() - started;
    const cpuTicks = treeCpuTicks() - cpuBefore;
    const peak = memory.stop();
    return { jobs, wallMs, cpuTicks, latencies, peakRss: peak.rss, peakPss: peak.pss };
  } finally {
    await runner.stop();
  }
}

function cell(approach: string, concurrency: number, segments: Segment[]): Cell {
  const jobs = segments.reduce((n, s) => n + s.jobs, 0);
  const wallMs = segments.reduce((n, s) => n + s.wallMs, 0);
  const latencies = segments.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const cpuMs = (segments.reduce((n, s) => n + s.cpuTicks, 0) * 1000) / CLOCK_TICKS_PER_SEC;
  return { approach, concurrency, jobs, jobsPerSec: +(jobs / (wallMs / 1000)).toFixed(2), p50Ms: Math.round(pct(latencies, 0.5)),
    p95Ms: Math.round(pct(latencies, 0.95)), chromeCpuMsPerJob: Math.round(cpuMs / jobs),
    peakRssMb: Math.round(Math.max(...segments.map((s) => s.peakRss)) / 2 ** 20), peakPssMb: Math.round(Math.max(...segments.map((s) => s.peakPss)) / 2 ** 20) };
}

/** One concurrency level: every approach, in SEGMENTS turns (order reversed every other turn). */
async function measureLevel(approaches: [string, () => BenchRunner, number][], concurrency: number): Promise<Cell[]> {
  const segments = new Map<string, Segment[]>(approaches.map(([name]) => [name, []]));
  for (let turn = 0; turn < SEGMENTS; turn += 1) {
    for (const [name, make, jobs] of turn % 2 === 0 ? approaches : [...approaches].reverse()) {
      const share = Math.floor(jobs / SEGMENTS) + (turn < jobs % SEGMENTS ? 1 : 0);
      if (share > 0) segments.get(name)?.push(await measureSegment(make(), concurrency, share));
    }
  }
  return approaches.map(([name]) => cell(name, concurrency, segments.get(name) ?? []));
}

async function measureCache(): Promise<{ uncachedP50Ms: number; cachedP50Ms: number; speedup: number }> {
  const runner = poolRunner('origin');
  await runner.start(1);
  try {
    const inputs = corpus.map(unique);
    const uncached = (await runLanes(runner, 1, inputs)).sort((a, b) => a - b);
    const cached = (await runLanes(runner, 1, inputs)).sort((a, b) => a - b);
    const hits = runner.pool?.stats().cache.hits ?? 0;
    if (hits < inputs.length) throw new Error(`expected ${inputs.length} cache hits, got ${hits}`);
    const [u, c] = [pct(uncached, 0.5), pct(cached, 0.5)];
    return { uncachedP50Ms: +u.toFixed(2), cachedP50Ms: +c.toFixed(3), speedup: Math.round(u / Math.max(c, 0.001)) };
  } finally {
    await runner.stop();
  }
}

function table(cells: Cell[]): string {
  const head = ['approach', 'conc', 'jobs', 'jobs/s', 'p50 ms', 'p95 ms', 'Chrome CPU ms/job', 'peak RSS sum MB', 'peak PSS MB'];
  const rows = cells.map((c) =>
    [c.approach, c.concurrency, c.jobs, c.jobsPerSec, c.p50Ms, c.p95Ms, c.chromeCpuMsPerJob, c.peakRssMb, c.peakPssMb].map(String));
  const lines = [head, ...rows].map((r) => `| ${r.join(' | ')} |`);
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const approaches: [string, () => BenchRunner, number][] = [
    ['pool origin (default)', () => poolRunner('origin'), JOBS],
    ['pool origin, Chromium at nice 0', () => poolRunner('origin', 0), JOBS],
    ['pool context', () => poolRunner('context'), JOBS],
    ['puppeteer-cluster CONTEXT', clusterRunner, JOBS],
    ['page reuse (no isolation)', pageReuseRunner, JOBS],
    ['browser per job', launchPerJobRunner, LAUNCH_JOBS],
  ];
  const cells: Cell[] = [];
  for (const concurrency of LEVELS) {
    for (const measured of await measureLevel(approaches, concurrency)) {
      process.stderr.write(`${JSON.stringify(measured)}\n`);
      cells.push(measured);
    }
  }
  const cache = await measureCache();
  const at = (name: string, c: number) => cells.find((x) => x.approach.startsWith(name) && x.concurrency === c)?.jobsPerSec ?? NaN;
  const cpu = (name: string, c: number) => cells.find((x) => x.approach.startsWith(name) && x.concurrency === c)?.chromeCpuMsPerJob ?? NaN;
  const ratios = LEVELS.map((c) => ({ concurrency: c, vsCluster: +(at('pool origin', c) / at('puppeteer-cluster', c)).toFixed(2),
    vsPageReuse: +(at('pool origin', c) / at('page reuse', c)).toFixed(2), vsLaunchPerJob: +(at('pool origin', c) / at('browser per job', c)).toFixed(2),
    // the same comparison by Chrome CPU per job (page reuse's over the pool's), steadier on a busy machine
    cpuVsPageReuse: +(cpu('page reuse', c) / cpu('pool origin', c)).toFixed(2) }));
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const result = { date: new Date().toISOString(), chrome: process.env['CHROME_PATH'] ?? '/usr/bin/chromium', segments: SEGMENTS, loadAverageAtEnd: loadAverage, cells, cache, ratios };
  process.stderr.write(`\n${table(cells)}\n\ncache: ${JSON.stringify(cache)}\nratios of pool origin: ${JSON.stringify(ratios)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`qc-pool bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
