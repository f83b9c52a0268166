import { Annotator } from './annotator';
import type { BrowserContext, Page } from 'puppeteer';
import { adoptChrome, borrowChrome, disposeChrome, launchChrome, letGoOfChrome, takePipe, type ChromeLoan, type LaunchedChrome } from './chrome-launcher';
import { ChromeRelayHost, RelayedTransport } from './cdp-relay';
import type { Readable, Writable } from 'node:stream';
import type { ChromePace, PacedTeardown } from './chrome-teardown';
import { lowerAutogroup, MAX_NICE, type ChromeSession } from './chrome-priority';
import { ContextSlot } from './context.slot';
import type { QcIsolation } from './qc-config';
import { QC_DEFAULT_VIEWPORT } from './qc-input';
import type { QcSlot, SlotEnv } from './qc-slot.types';
import type { AdoptableBrowser } from './worker-set';
import { WarmPageSlot } from './warm-page.slot';

export interface BrowserWorkerOptions {
  chromePath: string;
  extraArgs: string[];
  /** Nice value of Chromium's session and processes (0..19). */
  nice: number;
  /** Where Chromium is scheduled (QcPoolConfig.chromeSession). */
  session: ChromeSession;
  /** With `own`: the starvation escape's threshold (QcPoolConfig.chromeEscapeMs). */
  escapeMs: number;
  isolation: QcIsolation;
  slots: number;
  pageRecycleAfterJobs: number;
  pageResetTimeoutMs: number;
  /** Render a sample lesson on every slot before the browser counts as started (QcPoolConfig.warmUpRender). */
  warmUpRender: boolean;
  log: SlotEnv['log'];
  onPageRecycled: () => void;
  /** Called once when the browser goes away without close() (crash, kill -9). */
  onGone: (worker: BrowserWorker) => void;
}

/** The sample a new browser renders on each slot before it takes jobs: text in several fonts and sizes, a list, a table, an image that cannot load. */
const WARM_UP_LESSON = `<main><h1>Warm-up lesson</h1><h2>Fractions</h2><p>A <em>fraction</em> names a part of a <strong>whole</strong>: &frac12;, &frac34;.</p>
<ol><li>Numerator</li><li>Denominator</li></ol><table><tr><th>Part</th><th>Whole</th></tr><tr><td>1</td><td>4</td></tr></table>
<img src="warm-up.png" alt="a pie in four parts"><pre><code>1 / 4 = 0.25</code></pre></main>`;
/** Pool job ids start at 1; the warm-up's own origin is never a job's. */
const WARM_UP_JOB_ID = 0;
const WARM_UP_TIMEOUT_MS = 10_000;

/**
 * One render of a sample lesson on `slot`, its result dropped and the slot reset as after
 * any job. A new browser's first renders cost several times a warm one's (measured at the
 * switch of a handoff: 500-700 ms against 65 ms), and those should not be a client's. A
 * failure costs only the warmth: the slot discards its page and the first job makes a new one.
 */
async function warmUpRender(slot: QcSlot, pid: number, log: SlotEnv['log']): Promise<void> {
  const started = performance.now();
  try {
    await slot.run({ id: WARM_UP_JOB_ID, kind: 'check', input: { html: WARM_UP_LESSON, viewport: { ...QC_DEFAULT_VIEWPORT }, timeoutMs: WARM_UP_TIMEOUT_MS }, settleMs: 0 }, AbortSignal.timeout(WARM_UP_TIMEOUT_MS));
    await slot.release();
    log('debug', `warm-up render on Chrome (pid ${pid}) took ${Math.round(performance.now() - started)} ms`, { pid });
  } catch (error) {
    log('warn', `the warm-up render on Chrome (pid ${pid}) failed; its first job renders cold`, { pid, error: String(error) });
    await slot.warmUp();
  }
}

/** A slot as the pool sees it: which worker it belongs to and whether it is leased. */
export interface PoolSlot {
  worker: BrowserWorker;
  slot: QcSlot;
  busy: boolean;
}

/** One Chrome and its slots. Knows its age and job count; the pool decides when to retire it. */
export class BrowserWorker {
  readonly slots: PoolSlot[] = [];

  jobsStarted = 0;
  active = 0;
  retiring = false;
  gone = false;
  /** Set by close(): the browser is going away on purpose. */
  closing = false;
  /** Set by letGo(): another process goes on with the browser. */
  private letGoing = false;
  private annotator: Annotator | undefined;

  /** `startedAt`: when its pool launched the browser (a browser taken over keeps its age). */
  private constructor(readonly chrome: LaunchedChrome, readonly startedAt = Date.now()) {}

  static async start(options: BrowserWorkerOptions): Promise<BrowserWorker> {
    const chrome = await launchChrome(options.chromePath, {
      extraArgs: options.extraArgs, nice: options.nice, session: options.session, escapeMs: options.escapeMs, log: options.log,
    });
    const { priority } = chrome;
    const lowered = priority.nice === 0 || (priority.processes.startsWith('nice') && !priority.processes.includes('may raise') && !priority.autogroup.startsWith('failed'));
    options.log(lowered ? 'info' : 'warn', `Chrome started (pid ${chrome.pid}) at nice ${priority.nice}: processes ${priority.processes}, session autogroup ${priority.autogroup}`, { pid: chrome.pid, ...priority });
    const worker = BrowserWorker.around(chrome, options, new Map());
    try {
      await worker.warm(options);
    } finally {
      chrome.startDone();
    }
    // Warm now: from the lowest priority of its start up to the configured one (a group's nice may go back down to 0 without privilege).
    if (priority.nice > 0 && priority.nice < MAX_NICE && (priority.autogroup === 'set' || priority.autogroup === 'off')) {
      const raised = chrome.escape ? await chrome.escape.setLowNice(priority.nice) : await lowerAutogroup(chrome.pid, priority.nice);
      if (raised !== undefined && raised !== 'set' && raised !== 'off') options.log('warn', `Chrome (pid ${chrome.pid}) stays at the autogroup nice of its start (${MAX_NICE}): ${raised}`, { pid: chrome.pid });
    }
    return worker;
  }

  /**
   * Uses a Chromium another process lends (`loan`, see cdp-relay.ts) through `transport`, its relay:
   * its slots open pages of their own in it and warm them as after a launch, while the lender goes on
   * with its own. The pipe comes later ({@link takePipe}); until then close() closes only what this
   * worker opened.
   */
  static async borrow(loan: ChromeLoan, transport: RelayedTransport, options: BrowserWorkerOptions): Promise<BrowserWorker> {
    const chrome = await borrowChrome(loan, transport);
    const worker = BrowserWorker.around(chrome, options, new Map(), loan.launchedAt);
    worker.jobsStarted = loan.jobs;
    try {
      await worker.warm(options);
    } catch (error) {
      await worker.close(0);
      throw error;
    }
    options.log('info', `borrowed Chrome (pid ${chrome.pid}) from the process that holds it, with pages of its own`, { pid: chrome.pid });
    return worker;
  }

  /** A borrowed Chromium's pipe came (see chrome-launcher's takePipe): this worker holds it from now on. */
  takePipe(toChrome: Writable, fromChrome: Readable, leftover: Buffer): void {
    takePipe(this.chrome, toChrome, fromChrome, leftover);
  }

  /** Each slot's page, then a warm-up render on each (`warmUpRender`). */
  private async warm(options: BrowserWorkerOptions): Promise<void> {
    await Promise.all(this.slots.map((s) => s.slot.warmUp()));
    if (options.warmUpRender) await Promise.all(this.slots.map((s) => warmUpRender(s.slot, this.chrome.pid, options.log)));
  }

  /** The relay while this Chromium is lent to another process ({@link lend}); it is not recycled meanwhile. */
  lentTo: ChromeRelayHost | undefined;

  /** Lends this Chromium to another process: opens a browser-level session for it, whose messages go to `forward`. Resolves with what that process needs. */
  async lend(forward: (batch: string[]) => void): Promise<ChromeLoan> {
    const pipe = this.chrome.transport;
    if (pipe === undefined || this.lentTo) throw new Error(`Chrome (pid ${this.chrome.pid}) cannot be lent: ${pipe === undefined ? 'it is borrowed itself' : 'it is lent already'}`);
    const host = new ChromeRelayHost(pipe, forward);
    this.lentTo = host;
    try {
      const sessionId = await host.open();
      const { pid, profileDir, priority, binary } = this.chrome;
      return { pid, profileDir, priority, binary, launchedAt: this.startedAt, jobs: this.jobsStarted, sessionId };
    } catch (error) {
      this.lentTo = undefined;
      throw error;
    }
  }

  /** The borrower went away without taking the pipe: what it opened here goes (ChromeRelayHost.end). */
  async endLoan(): Promise<void> {
    const host = this.lentTo;
    this.lentTo = undefined;
    await host?.end();
  }

  /**
   * Goes on with a Chromium another process let go of ({@link letGo}), over its pipe: each slot takes
   * one of the warm contexts `contextIds` names and guards its page anew; every other context (an
   * annotator's, a page of a job that was not let go) is closed. No warm-up render: its renderers are warm.
   */
  static async adopt({ handover, toChrome, fromChrome, contextIds }: Omit<AdoptableBrowser, 'nextJobId'>, options: BrowserWorkerOptions): Promise<BrowserWorker> {
    const chrome = await adoptChrome(handover, toChrome, fromChrome);
    const contexts = new Map(chrome.browser.browserContexts().filter((c) => c.id !== undefined).map((c) => [c.id as string, c]));
    const warm = new Map<number, { context: BrowserContext; page: Page }>();
    for (const [i, id] of contextIds.slice(0, options.slots).entries()) {
      const context = contexts.get(id);
      const page = context ? (await context.pages())[0] : undefined;
      if (context && page) warm.set(i, { context, page });
    }
    const kept = new Set([...warm.values()].map((w) => w.context));
    await Promise.all([...contexts.values()].filter((c) => !kept.has(c)).map((c) => c.close().catch(() => undefined)));
    const worker = BrowserWorker.around(chrome, options, warm, handover.launchedAt);
    worker.jobsStarted = handover.jobs;
    await Promise.all(worker.slots.map((s) => s.slot.warmUp()));
    options.log('info', `took over Chrome (pid ${chrome.pid}) with ${warm.size} warm pages`, { pid: chrome.pid, warmPages: warm.size });
    return worker;
  }

  /** A worker around a connected Chrome: its slots (taking `adopted` pages by index) and its crash handling. */
  private static around(chrome: LaunchedChrome, options: BrowserWorkerOptions, adopted: Map<number, { context: BrowserContext; page: Page }>, startedAt?: number): BrowserWorker {
    const worker = new BrowserWorker(chrome, startedAt);
    const annotator = new Annotator(chrome.browser, options.log);
    worker.annotator = annotator;
    const env: SlotEnv = {
      log: options.log,
      browserGone: () => worker.gone || worker.closing,
      onPageRecycled: options.onPageRecycled,
      annotate: (png, report, scroll) => annotator.compose(png, report, scroll),
    };
    for (let i = 0; i < options.slots; i += 1) {
      const slot =
        options.isolation === 'origin'
          ? new WarmPageSlot(chrome.browser, env, {
              recycleAfterJobs: options.pageRecycleAfterJobs,
              resetTimeoutMs: options.pageResetTimeoutMs,
            }, adopted.get(i))
          : new ContextSlot(chrome.browser, env);
      worker.slots.push({ worker, slot, busy: false });
    }
    chrome.browser.on('disconnected', () => {
      if (worker.gone) return;
      chrome.escape?.stop();
      const error = new Error(`Chrome (pid ${chrome.pid}) disconnected`);
      // Jobs still running fail now (close() turns that into PoolClosedError), not at their timeout.
      for (const s of worker.slots) s.slot.browserGone(error);
      if (worker.closing) return;
      worker.gone = true;
      options.log('error', 'Chrome crashed or was killed; replacing it', { pid: chrome.pid });
      // Renderers may outlive a killed browser process: remove the whole group and the profile.
      void disposeChrome(chrome, 0).catch((cleanupError: unknown) =>
        options.log('warn', 'cleanup after a Chrome crash failed', { error: String(cleanupError) }),
      );
      options.onGone(worker);
    });
    return worker;
  }

  /**
   * With no job running: lets go of this Chrome for another process ({@link adopt}), which gets
   * the pipe's two ends and the warm contexts' ids. This worker is closed from then on, and its
   * close() leaves the browser alone.
   */
  async letGo(beforeRelease?: () => Promise<void>): Promise<Omit<AdoptableBrowser, 'nextJobId'>> {
    this.closing = true;
    this.letGoing = true;
    const [, ...ids] = await Promise.all([this.annotator?.close(), ...this.slots.map((s) => s.slot.letGo().catch(() => undefined))]);
    const contextIds = ids.filter((id): id is string => id !== undefined);
    const host = this.lentTo;
    try {
      return { ...(await letGoOfChrome(this.chrome, { launchedAt: this.startedAt, jobs: this.jobsStarted }, beforeRelease)), contextIds };
    } finally {
      // What the relay read for the borrower goes to it before the pipe does.
      host?.stop();
      this.lentTo = undefined;
    }
  }

  /** True when new jobs may be leased here. */
  get usable(): boolean {
    return !this.gone && !this.retiring && !this.closing;
  }

  /** True when the worker has done its share and should be replaced. */
  dueForRecycle(maxJobs: number, maxAgeMs: number, now = Date.now()): boolean {
    if (this.lentTo) return false; // another process uses it
    return this.jobsStarted >= maxJobs || now - this.startedAt >= maxAgeMs;
  }

  /** Closes Chrome (politely up to `deadlineMs`, or paced: see `disposeChrome`), kills its process group and removes its profile. */
  async close(deadlineMs: number, pace?: ChromePace): Promise<PacedTeardown | undefined> {
    this.closing = true;
    if (this.letGoing) return undefined;
    return disposeChrome(this.chrome, deadlineMs, pace);
  }
}
