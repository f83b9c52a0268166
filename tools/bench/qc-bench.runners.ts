// The approaches compared by qc-pool.bench.ts. Every runner does the same job: load the
// content, capture console and page errors, run the DOM checks, take a 1280x800 PNG.
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { Cluster } from 'puppeteer-cluster';
import { descendantsOf, listProcs, QcPool, QC_POOL_DEFAULTS, readProc, runDomChecks, type QcIsolation } from '@edu-agents/qc-chrome-pool';

export interface BenchRunner {
  start(concurrency: number): Promise<void>;
  /** One job; `worker` is the index of the concurrent lane running it. */
  job(html: string, worker: number): Promise<void>;
  stop(): Promise<void>;
}

/** CPU ticks of everything this process started: live descendants plus children already reaped. */
export function treeCpuTicks(): number {
  const self = readProc(process.pid);
  return (self?.reapedChildTicks ?? 0) + descendantsOf(process.pid, listProcs()).reduce((s, p) => s + p.cpuTicks, 0);
}

export const CHROME = process.env['CHROME_PATH'] ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];
const launchOptions = { executablePath: CHROME, headless: true, pipe: true, args: ARGS,
  handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false } as const;
const VIEWPORT = { width: 1280, height: 800 };

/** The plain job on an existing page (what the baselines run). */
export async function plainJob(page: Page, html: string): Promise<void> {
  const errors: string[] = [];
  const onConsole = (m: { type(): string; text(): string }) => void (m.type() === 'error' && errors.push(m.text()));
  const onError = (e: unknown) => void errors.push(String(e));
  page.on('console', onConsole);
  page.on('pageerror', onError);
  try {
    await page.setViewport(VIEWPORT);
    await page.setContent(html, { waitUntil: 'load' });
    await page.evaluate(runDomChecks, 20);
    await page.screenshot({ type: 'png' });
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onError);
  }
}

/** This library's pool in one isolation mode (one browser, `concurrency` slots); Chromium at `chromeNice` (default 19). */
export function poolRunner(isolation: QcIsolation, chromeNice = QC_POOL_DEFAULTS.chromeNice): BenchRunner & { pool?: QcPool } {
  const runner: BenchRunner & { pool?: QcPool } = {
    async start(concurrency) {
      runner.pool = await QcPool.launch({ ...QC_POOL_DEFAULTS, chromePath: CHROME, isolation, browsers: 1, chromeNice,
        pagesPerBrowser: concurrency, queueMax: 1000, jobTimeoutMs: 30_000, acquireTimeoutMs: 120_000 });
    },
    async job(html) {
      await runner.pool?.screenshot({ html, viewport: VIEWPORT, timeoutMs: 30_000 });
    },
    async stop() {
      await runner.pool?.close();
    },
  };
  return runner;
}

/** puppeteer-cluster, CONCURRENCY_CONTEXT (a fresh incognito context per job), same Chromium. */
export function clusterRunner(): BenchRunner {
  let cluster: Cluster<string, void> | undefined;
  return {
    async start(concurrency) {
      cluster = await Cluster.launch({ concurrency: Cluster.CONCURRENCY_CONTEXT, maxConcurrency: concurrency,
        puppeteer, puppeteerOptions: launchOptions, timeout: 60_000 });
      await cluster.task(async ({ page, data }) => plainJob(page, data));
    },
    async job(html) {
      await cluster?.execute(html);
    },
    async stop() {
      await cluster?.idle();
      await cluster?.close();
    },
  };
}

/** A new browser for every job. */
export function launchPerJobRunner(): BenchRunner {
  return {
    async start() {
      return;
    },
    async job(html) {
      const browser = await puppeteer.launch(launchOptions);
      try {
        await plainJob(await browser.newPage(), html);
      } finally {
        await browser.close();
      }
    },
    async stop() {
      return;
    },
  };
}

/** One browser, one long-lived page per lane, reused with no isolation at all. */
export function pageReuseRunner(): BenchRunner {
  let browser: Browser | undefined;
  const pages: Page[] = [];
  return {
    async start(concurrency) {
      browser = await puppeteer.launch(launchOptions);
      // A context per lane gives each page its own window: pages that are background tabs of one
      // window stall on screenshots (puppeteer issue #12712). No reset, no isolation between jobs.
      for (let i = 0; i < concurrency; i += 1) pages.push(await (await browser.createBrowserContext()).newPage());
    },
    async job(html, worker) {
      await plainJob(pages[worker], html);
    },
    async stop() {
      pages.length = 0;
      await browser?.close();
    },
  };
}
