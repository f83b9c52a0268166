import { createHash } from 'node:crypto';
import { BASE_CHROME_ARGS } from './chrome-launcher';
import { NETWORK_GUARD_PREFERENCES } from './network-guard';
import { treeCpuByPid, untilQuiet, type QuietOptions, type QuietResult } from './browser-quiet';
import { MAX_NICE, reniceTrees, validNice, type ReniceResult } from './chrome-priority';
import type { PoolSlot } from './browser-worker';
import type { ChromePace, PacedTeardown } from './chrome-teardown';
import { JobQueue } from './job-queue';
import { cleanupOrphans } from './orphan-cleanup';
import { PoolCounters, type QcPoolStats } from './pool-stats';
import { type QcPoolConfig, resolveChromePath, validateQcPoolConfig } from './qc-config';
import { BrowserCrashedError, JobTimeoutError, PoolClosedError, QcError } from './qc-errors';
import { Flight } from './single-flight';
import type { QcJobInput } from './qc-input';
import type { QcJobKind } from './qc-job.types';
import type { QcReport } from './qc-report.types';
import { ResultCache, type CacheEntry, type QcCacheExport, type QcCacheImport } from './result-cache';
import { WorkerSet, type AdoptableBrowser } from './worker-set';
import type { ChromeLoan } from './chrome-launcher';

/** A browser one pool lends another process's pool (QcPool.lend, QcPool.borrow); `index` names it in their messages. */
export type LentBrowser = ChromeLoan & { index: number };

/** What close() did. */
export interface QcCloseSummary {
  /** Jobs running when close() began. */
  activeAtClose: number;
  /** Of those, jobs still running at the deadline (they fail with PoolClosedError). */
  cutOff: number;
  queuedRejected: number;
  browsersClosed: number;
  durationMs: number;
  /** With `pace`: Chromium's processes let go one at a time, and the time waited on the pace. */
  paced?: PacedTeardown;
}

/**
 * A pool of headless Chromium browsers that renders untrusted HTML behind a deny-by-default
 * network guard and reports what a learner would see broken.
 * @example
 * const pool = await QcPool.launch({ ...QC_POOL_DEFAULTS, chromePath: process.env.CHROME_PATH });
 * const report = await pool.check({ html, viewport: { width: 1280, height: 800 }, timeoutMs: 10_000 });
 * await pool.close();
 */
export class QcPool {
  private readonly counters = new PoolCounters();
  private readonly cache: ResultCache;
  private readonly queue: JobQueue<PoolSlot>;
  private readonly workers: WorkerSet;
  private readonly startedAt = Date.now();
  private nextJobId = 1;
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private closing: Promise<QcCloseSummary> | undefined;
  /** Browsers are on their way ({@link awaiting}): taken over or launched. */
  private arriving = false;
  private readonly flights = new Map<string, Flight<CacheEntry>>();

  private constructor(private readonly config: QcPoolConfig) {
    this.cache = new ResultCache(config.cacheMaxEntries, config.cacheMaxBytes);
    this.queue = new JobQueue<PoolSlot>(config.queueMax, () => this.retryAfterSec());
    const log = config.log ?? (() => undefined);
    this.workers = new WorkerSet(config, resolveChromePath(config.chromePath), log, this.counters, (slot) =>
      this.offer(slot),
    );
  }

  /** Cleans leftovers of crashed earlier runs, starts the browsers and returns a ready pool. */
  static async launch(config: QcPoolConfig): Promise<QcPool> {
    validateQcPoolConfig(config);
    cleanupOrphans(undefined, (message, fields) => config.log?.('warn', message, fields));
    const pool = new QcPool(config);
    try {
      await pool.workers.launchUpTo(config.browsers);
    } catch (error) {
      await pool.close({ deadlineMs: 0 });
      throw error;
    }
    return pool;
  }

  /**
   * What a Chromium of a pool with `config` is started with: the executable's path, every flag, its
   * preferences, the isolation and the priority. Two processes whose fingerprints are equal may pass
   * their browsers on ({@link letGo}, {@link adopt}); a change in any of these asks for a launch.
   */
  static chromeFingerprint(config: QcPoolConfig): string {
    const chrome = {
      path: resolveChromePath(config.chromePath), args: [...BASE_CHROME_ARGS, ...(config.extraChromeArgs ?? [])], preferences: NETWORK_GUARD_PREFERENCES,
      isolation: config.isolation, pagesPerBrowser: config.pagesPerBrowser, session: config.chromeSession, nice: config.chromeNice,
    };
    return createHash('sha256').update(JSON.stringify(chrome)).digest('hex').slice(0, 16);
  }

  /**
   * A pool with no browser yet, for a process that takes over another's running Chromium
   * ({@link adopt}), or launches its own ({@link launchOwn}) when none comes. Jobs wait in the
   * queue meanwhile (up to `acquireTimeoutMs`), and health() counts the browsers on their way as up.
   */
  static awaiting(config: QcPoolConfig): QcPool {
    validateQcPoolConfig(config);
    const pool = new QcPool(config);
    pool.arriving = true;
    return pool;
  }

  /**
   * Uses browsers another process's pool lends this one ({@link lend}) instead of launching its
   * own (an {@link awaiting} pool): each gets pages of its own, warmed as after a launch, while the
   * lender goes on with its pages in the same Chromium. `send` carries each browser's DevTools
   * commands to the lender, and {@link fromLender} takes what it passes back (from the moment this
   * is called). The pipes come later ({@link takePipes}); a browser that cannot be borrowed, or one
   * that goes with its lender ({@link lenderGone}), is launched here. Resolves with how many were borrowed.
   */
  async borrow(loans: LentBrowser[], send: (index: number, batch: string[]) => void): Promise<number> {
    try {
      const borrowed = await this.workers.borrowAll(loans, send);
      await this.workers.launchUpTo(this.config.browsers);
      return borrowed;
    } finally {
      this.arriving = false;
    }
  }

  /** What the lender passed on for the browser it lent under `index` (its `forward`, see {@link lend}). */
  fromLender(index: number, batch: string[]): void {
    this.workers.fromLender(index, batch);
  }

  /** The borrowed browsers' commands wait from now on until their pipes come (the lender is about to let go of them). */
  holdBorrowed(): void {
    this.workers.holdBorrowed();
  }

  /** The pipes of the borrowed browsers, as the lender let go of them ({@link letGo}): this pool holds them from now on. Resolves with how many it took. */
  async takePipes(browsers: AdoptableBrowser[]): Promise<number> {
    return this.workers.takePipes(browsers);
  }

  /** The lender went away before it passed the pipes: its browsers went with it, and this pool launches its own. */
  lenderGone(): void {
    this.workers.lenderGone();
  }

  /**
   * Lends this pool's browsers to another process's pool ({@link borrow}): each opens a
   * browser-level DevTools session for it, whose messages go to `forward`. This pool goes on
   * rendering meanwhile; its browsers are not recycled. Then either {@link letGo} passes the pipes,
   * or {@link endLoans} takes back what the borrower opened.
   */
  async lend(forward: (index: number, batch: string[]) => void): Promise<LentBrowser[]> {
    if (this.closing) throw new Error('lend: the pool is closing');
    return this.workers.lendAll(forward);
  }

  /** The borrower's commands for the browser lent under `index`. */
  fromBorrower(index: number, batch: string[]): void {
    this.workers.fromBorrower(index, batch);
  }

  /** The borrower went away without the pipes: the browser contexts it opened are closed and its sessions detached. */
  async endLoans(): Promise<void> {
    await this.workers.endLoans();
  }

  /**
   * Goes on with browsers another process's pool let go of ({@link letGo}); the configured
   * number is made up with launches. Resolves with how many were taken over.
   */
  async adopt(browsers: AdoptableBrowser[]): Promise<number> {
    // Job origins come from job ids: none the adopted browsers have seen is used again.
    this.nextJobId = Math.max(this.nextJobId, ...browsers.map((b) => b.nextJobId));
    try {
      const adopted = await this.workers.adoptAll(browsers);
      await this.workers.launchUpTo(this.config.browsers);
      return adopted;
    } finally {
      this.arriving = false;
    }
  }

  /** Launches the configured browsers (an {@link awaiting} pool to which none came): {@link adopt} of none. */
  async launchOwn(): Promise<void> {
    await this.adopt([]);
  }

  /**
   * Once no job runs (jobs still queued fail with PoolClosedError): lets go of every browser, with
   * its warm pages, for another process to go on with ({@link adopt}); their pipes' ends are
   * returned, to pass on. The pool is closed from then on. A browser lent ({@link lend}) awaits
   * `beforeRelease` right before its pipe is released (the borrower holds its commands back then),
   * and what its relay read for the borrower is passed on (`forward`) before this resolves.
   */
  async letGo(beforeRelease?: () => Promise<void>): Promise<AdoptableBrowser[]> {
    let release!: (summary: QcCloseSummary) => void;
    if (this.closing) throw new Error('letGo: the pool is closing already');
    const started = Date.now();
    this.closing = new Promise((resolve) => (release = resolve));
    const queuedRejected = this.queue.rejectAll(new PoolClosedError());
    const activeAtClose = this.active;
    try {
      await this.untilIdle();
      const browsers = await this.workers.letGoAll(this.nextJobId, beforeRelease);
      this.cache.clear();
      return browsers;
    } finally {
      // close() from now on resolves with this (and finds nothing left to close).
      release({ activeAtClose, cutOff: 0, queuedRejected, browsersClosed: 0, durationMs: Date.now() - started });
    }
  }

  /**
   * Renders the HTML and returns its QC report (no screenshot work). Concurrent calls for the same
   * content share one render; each gets its own copy. `signal`: abort when the caller goes away.
   */
  async check(input: QcJobInput, options: { signal?: AbortSignal } = {}): Promise<QcReport> {
    const value = await this.run('check', input, options.signal);
    if (Buffer.isBuffer(value)) throw new Error('check job returned an image; this is a bug in qc-chrome-pool');
    return value;
  }

  /**
   * Renders the HTML and returns a PNG of the viewport; with `annotate`, each element the report
   * lists is outlined and numbered (colour by kind) and a legend is added below the screenshot.
   */
  async screenshot(input: QcJobInput, options: { annotate?: boolean; signal?: AbortSignal } = {}): Promise<Buffer> {
    const value = await this.run(options.annotate ? 'annotated-screenshot' : 'screenshot', input, options.signal);
    if (!Buffer.isBuffer(value)) throw new Error('screenshot job returned no image; this is a bug in qc-chrome-pool');
    return value;
  }

  private async run(kind: QcJobKind, input: QcJobInput, signal: AbortSignal | undefined): Promise<CacheEntry> {
    if (this.closing) throw new PoolClosedError();
    const key = ResultCache.key(kind, input);
    const hit = this.cache.get(key);
    if (hit !== undefined) return Buffer.isBuffer(hit) ? Buffer.from(hit) : { ...structuredClone(hit), cached: true };
    let flight = this.flights.get(key);
    if (flight && !flight.abandoned) {
      this.counters.coalesced += 1;
    } else {
      const started = new Flight<CacheEntry>((cancel, onStart) => this.render(key, kind, input, cancel, onStart));
      this.flights.set(key, started);
      const forget = () => void (this.flights.get(key) === started && this.flights.delete(key));
      started.result.then(forget, forget);
      flight = started;
    }
    const value = await flight.join({ timeoutMs: input.timeoutMs, signal });
    return Buffer.isBuffer(value) ? Buffer.from(value) : structuredClone(value);
  }

  /** One render: waits for a slot (the queue holds renders, not callers), runs, caches. */
  private async render(key: string, kind: QcJobKind, input: QcJobInput, cancel: AbortSignal, onStart: () => void): Promise<CacheEntry> {
    let slot: PoolSlot;
    try {
      slot = this.workers.takeIdle() ?? (await this.queue.wait(this.config.acquireTimeoutMs, cancel));
    } catch (error) {
      if (error === cancel.reason) this.counters.cancelled += 1;
      else this.counters.rejected += 1;
      throw error;
    }
    onStart();
    this.active += 1;
    slot.worker.active += 1;
    slot.worker.jobsStarted += 1;
    // A render that waits too long for the CPU raises Chromium's own group (chromeSession 'own').
    const renderDone = slot.worker.chrome.escape?.begin('render');
    const renderEnded = this.config.onRender?.();
    try {
      const output = await slot.slot.run({ id: this.nextJobId++, kind, input, settleMs: this.config.settleMs }, cancel);
      const value = kind === 'check' ? output.report : output.png;
      if (!value) throw new Error(`${kind} job returned no result; this is a bug in qc-chrome-pool`);
      this.counters.done += 1;
      this.counters.recordRender(output.report.renderTimeMs);
      this.cache.set(key, value);
      return value;
    } catch (error) {
      if (error === cancel.reason) {
        if (error instanceof JobTimeoutError) this.counters.timedOut += 1;
        else this.counters.cancelled += 1;
      } else {
        this.counters.failed += 1;
      }
      // Cut off by close(): the browser went away under the job on purpose, not by a crash.
      if (this.closing && (error instanceof BrowserCrashedError || !(error instanceof QcError))) {
        throw new PoolClosedError({ cause: error });
      }
      throw error;
    } finally {
      this.active -= 1;
      slot.worker.active -= 1;
      void this.workers.release(slot).finally(() => {
        renderDone?.(); // the slot's reset after the job is Chromium's work too
        renderEnded?.();
        this.notifyIdle();
      });
    }
  }

  /** A slot became free: give it to the oldest waiting job or leave it idle. */
  private offer(slot: PoolSlot): void {
    slot.busy = true;
    if (this.closing || !this.queue.handOff(slot)) slot.busy = false;
  }

  private retryAfterSec(): number {
    const perJobMs = Math.max(this.counters.percentiles().p50, 500);
    const slots = Math.max(1, this.config.browsers * this.config.pagesPerBrowser);
    return Math.max(1, Math.ceil(((this.queue.length + 1) * perJobMs) / slots / 1000));
  }

  /** Resolves once no job runs. */
  private untilIdle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    if (this.active > 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** The result cache for a successor process (hot handoff): structured-clone data, most recently used first. */
  exportCache(): QcCacheExport {
    return this.cache.export();
  }

  /** Takes over a predecessor's cache within this pool's bounds; another format is dropped with the reason. */
  importCache(snapshot: unknown): QcCacheImport {
    return this.cache.import(snapshot);
  }

  /**
   * Resolves once the browsers have gone quiet (see {@link QuietOptions}), or at the deadline.
   * A new browser goes on working after launch() resolved; a process that is about to take
   * over another's clients waits here, at the priority of its start, instead of spending that
   * CPU beside the clients' process at its full priority.
   */
  untilQuiet(options: QuietOptions): Promise<QuietResult> {
    return untilQuiet(options, {
      cpuByPid: () => treeCpuByPid(this.workers.processes().map((p) => p.pid)),
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
  }

  /**
   * Sets every thread of the browsers' processes to `nice`, for a while: a process whose successor
   * starts at SCHED_IDLE in its scheduling group raises its Chromium above that start's threads
   * (nice 19 weighs 15 against 3 per idle thread, so a render lost up to half its CPU), and lowers
   * it again afterwards. Raising needs CAP_SYS_NICE or RLIMIT_NICE; a refusal is counted, not thrown.
   */
  reniceBrowsers(nice: number): ReniceResult {
    return reniceTrees(this.workers.processes().map((p) => p.pid), nice);
  }

  /**
   * Sets Chromium's nice value for good: every thread of the running browsers, and every browser
   * launched later (recycled, or replaced after a crash). A handoff's successor launches its pool at a
   * higher priority than `chromeNice` and lowers it with this once its predecessor has exited. Only
   * lowering needs no privilege; a refusal is counted, not thrown. With `chromeSession: 'own'` the
   * sessions' autogroups are left as they are.
   */
  setChromeNice(nice: number): ReniceResult {
    if (!validNice(nice)) throw new Error(`setChromeNice: nice must be an integer from 0 to ${MAX_NICE}, got ${String(nice)}`);
    return this.workers.setNice(nice);
  }

  /** Current counters, capacity and cache state. */
  stats(): QcPoolStats {
    const slots = this.workers.slotCounts();
    return {
      browsers: this.workers.liveCount(),
      slots,
      queueLength: this.queue.length,
      jobs: this.counters.jobs(),
      renderMs: this.counters.percentiles(),
      cache: { hits: this.cache.hits, misses: this.cache.misses, coalesced: this.counters.coalesced, entries: this.cache.entries, bytes: this.cache.bytes },
      browserRestarts: this.counters.browserRestarts,
      browserRecycles: this.counters.browserRecycles,
      pageRecycles: this.counters.pageRecycles,
      uptimeMs: Date.now() - this.startedAt,
      browserProcesses: this.workers.processes(),
    };
  }

  /** up=false when no browser can be had (all crashed and not yet replaced, or closed). */
  health(): { up: boolean; browsers: number; message?: string } {
    const browsers = this.workers.liveCount();
    if (this.closing) return { up: false, browsers, message: 'QC pool is closed' };
    if (browsers === 0 && this.arriving) return { up: true, browsers, message: 'taking over or launching Chrome' };
    if (browsers === 0) return { up: false, browsers, message: 'no Chrome browser is running; replacement pending' };
    return { up: true, browsers };
  }

  /**
   * Stops leasing, rejects queued jobs with PoolClosedError, lets active jobs finish up to the
   * deadline, closes browsers, kills leftovers by process group, removes profiles, clears the cache.
   * With `pace` (an API retiring beside its successor): no polite close; the browsers' processes
   * are stopped and go one at a time, each once `pace` resolved (see chrome-teardown.ts).
   * Idempotent: later calls return the first call's result.
   */
  close(options: { deadlineMs?: number; pace?: ChromePace } = {}): Promise<QcCloseSummary> {
    this.closing ??= this.doClose(options.deadlineMs ?? this.config.closeTimeoutMs, options.pace);
    return this.closing;
  }

  private async doClose(deadlineMs: number, pace?: ChromePace): Promise<QcCloseSummary> {
    const started = Date.now();
    const activeAtClose = this.active;
    const queuedRejected = this.queue.rejectAll(new PoolClosedError()); // counted as rejected by render()
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.untilIdle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    const cutOff = this.active;
    const { closed: browsersClosed, paced } = await this.workers.closeAll(Math.max(500, deadlineMs - (Date.now() - started)), pace);
    this.cache.clear();
    return { activeAtClose, cutOff, queuedRejected, browsersClosed, durationMs: Date.now() - started, ...(paced ? { paced } : {}) };
  }
}
