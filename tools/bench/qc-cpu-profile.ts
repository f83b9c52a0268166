// Where a job's Chrome CPU goes: runs the same screenshot jobs through several approaches, each in
// its own browser, in interleaved rounds (so a busy neighbour hurts all alike), and splits the
// Chrome CPU per job by process type (browser, renderer, GPU, utility) from /proc, plus this
// process's own CPU. Run: SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/qc-cpu-profile.ts
// Env: QC_PROFILE_ROUNDS (8), QC_PROFILE_JOBS (5 per round), QC_PROFILE_EXTRA_ARGS (extra Chrome
// flags for a second pool, e.g. "--disable-features=RenderDocument"), JSON on stdout.
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { listProcs, QcPool, QC_POOL_DEFAULTS, type QcIsolation } from '@edu-agents/qc-chrome-pool';
import { CHROME, plainJob } from './qc-bench.runners';
import { lessonCorpus } from './qc-corpus';

interface Profiled {
  name: string;
  start(): Promise<number>; // the process group to measure
  job(html: string): Promise<void>;
  stop(): Promise<void>;
}

const ROUNDS = Number(process.env['QC_PROFILE_ROUNDS'] ?? 8);
const PER_ROUND = Number(process.env['QC_PROFILE_JOBS'] ?? 5);
const EXTRA = (process.env['QC_PROFILE_EXTRA_ARGS'] ?? '').split(' ').filter(Boolean);
const VIEWPORT = { width: 1280, height: 800 };
const corpus = lessonCorpus(20);

function pool(name: string, isolation: QcIsolation, extraChromeArgs: string[] = []): Profiled {
  let p: QcPool | undefined;
  return {
    name,
    async start() {
      p = await QcPool.launch({ ...QC_POOL_DEFAULTS, chromePath: CHROME, isolation, browsers: 1, pagesPerBrowser: 1, extraChromeArgs });
      return p.stats().browserProcesses[0].pid;
    },
    job: async (html) => void (await p?.screenshot({ html, viewport: VIEWPORT, timeoutMs: 60_000 })),
    stop: async () => void (await p?.close()),
  };
}

function pageReuse(): Profiled {
  let browser: Browser | undefined;
  let page: Page | undefined;
  return {
    name: 'page reuse (no isolation)',
    async start() {
      browser = await puppeteer.launch({ executablePath: CHROME, headless: true, pipe: true, args: ['--no-sandbox', '--disable-gpu'] });
      page = await (await browser.createBrowserContext()).newPage();
      return browser.process()?.pid ?? 0;
    },
    job: (html) => plainJob(page as Page, html),
    stop: async () => void (await browser?.close()),
  };
}

/** CPU ticks (1/100 s) of a process group by process type; gone processes keep their last sample. */
function sampler(pgid: number): { read(): Record<string, number> } {
  const last = new Map<number, { type: string; ticks: number }>();
  const sample = () => {
    for (const p of listProcs()) {
      if (p.pgid !== pgid) continue;
      const type = p.cmdline.find((a) => a.startsWith('--type='))?.slice(7) ?? 'browser';
      last.set(p.pid, { type: type === 'utility' ? `utility ${p.cmdline.some((a) => a.includes('network.mojom')) ? 'network' : 'other'}` : type, ticks: p.cpuTicks });
    }
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return {
    read() {
      sample();
      const out: Record<string, number> = {};
      for (const { type, ticks } of last.values()) out[type] = (out[type] ?? 0) + ticks;
      return out;
    },
  };
}

async function main(): Promise<void> {
  const approaches = [pool('pool origin (default)', 'origin'), pool('pool context', 'context'), pageReuse()];
  if (EXTRA.length > 0) approaches.splice(1, 0, pool(`pool origin + ${EXTRA.join(' ')}`, 'origin', EXTRA));
  const state = await Promise.all(approaches.map(async (a) => ({ a, meter: sampler(await a.start()), jobs: 0, cpu: {} as Record<string, number>, nodeMs: 0 })));
  let serial = 0;
  for (const s of state) await s.a.job(`${corpus[0]}<!-- warm-up ${(serial += 1)} -->`);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const s of round % 2 ? [...state].reverse() : state) {
      const before = s.meter.read();
      const node = process.cpuUsage();
      for (let i = 0; i < PER_ROUND; i += 1) await s.a.job(`${corpus[(serial += 1) % corpus.length]}<!-- ${serial} -->`);
      const used = process.cpuUsage(node);
      s.nodeMs += (used.user + used.system) / 1000;
      for (const [type, ticks] of Object.entries(s.meter.read())) s.cpu[type] = (s.cpu[type] ?? 0) + ticks - (before[type] ?? 0);
      s.jobs += PER_ROUND;
    }
  }
  const rows = state.map((s) => {
    const perJob = Object.fromEntries(Object.entries(s.cpu).map(([type, ticks]) => [type, Math.round((ticks * 10) / s.jobs)]));
    const chromeMs = Object.values(perJob).reduce((sum, v) => sum + v, 0);
    return { approach: s.a.name, jobs: s.jobs, chromeCpuMsPerJob: chromeMs, byProcessType: perJob, nodeCpuMsPerJob: Math.round(s.nodeMs / s.jobs) };
  });
  for (const s of state) await s.a.stop();
  for (const r of rows) process.stderr.write(`${r.approach}: Chrome ${r.chromeCpuMsPerJob} ms/job ${JSON.stringify(r.byProcessType)}, node ${r.nodeCpuMsPerJob} ms/job\n`);
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, perRound: PER_ROUND, rows }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`qc cpu profile failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
