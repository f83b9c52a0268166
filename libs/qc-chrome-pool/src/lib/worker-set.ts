import type { Readable, Writable } from 'node:stream';
import { BrowserWorker, type BrowserWorkerOptions, type PoolSlot } from './browser-worker';
import { binaryIdentity, browserCommand, disposeChrome, killChromeTreeAsync, waitGone, type ChromeHandover, type ChromeLoan } from './chrome-launcher';
import { RelayedTransport } from './cdp-relay';
import { removeProfileAsync } from './profile-dir';
import type { ChromePace, PacedTeardown } from './chrome-teardown';
import { reniceTrees, type ReniceResult } from './chrome-priority';
import type { PoolCounters, QcPoolStats } from './pool-stats';
import type { QcPoolConfig } from './qc-config';
import type { SlotEnv } from './qc-slot.types';

/** A browser another process let go of, as this one receives it. */
export interface AdoptableBrowser {
  handover: ChromeHandover;
  toChrome: Writable;
  fromChrome: Readable;
  contextIds: string[];
  /**
   * The first job id the pool that let go had not used: each job's origin comes from its id, and
   * an origin the browser saw before must never be a later job's (QcPool.adopt goes on from here).
   */
  nextJobId: number;
}

/**
 * Ends a browser that was let go of and that nobody goes on with: its pipe's ends are closed, its
 * processes killed (waited for, at most 3 s) and its profile removed.
 */
export async function discardBrowser({ handover, toChrome, fromChrome }: AdoptableBrowser): Promise<void> {
  toChrome.destroy();
  fromChrome.destroy();
  await waitGone(await killChromeTreeAsync(handover.pid, handover.profileDir, handover.priority.session === 'own'), 3_000);
  await removeProfileAsync(handover.profileDir);
}

const RELAUNCH_BACKOFF_MS = [250, 1000, 2000, 5000];

/** The pool's browsers: start, lease slots, recycle by age/jobs, replace after a crash, close. */
export class WorkerSet {
  private workers: BrowserWorker[] = [];
  private readonly launching = new Set<Promise<void>>();
  /** Slots being cleaned after their job (see {@link release}). */
  private readonly releasing = new Set<Promise<void>>();
  private closed = false;
  /** Browsers lent to another process, by the index the loan gave them ({@link lendAll}). */
  private lent = new Map<number, BrowserWorker>();
  /** Relays to the browsers this set borrowed, by the lender's index ({@link borrowAll}). */
  private borrowed = new Map<number, RelayedTransport>();
  /** The nice value browsers launch at from now on: the config's, until {@link setNice}. */
  private nice: number;

  constructor(
    private readonly config: QcPoolConfig,
    private readonly chromePath: string,
    private readonly log: SlotEnv['log'],
    private readonly counters: PoolCounters,
    private readonly offer: (slot: PoolSlot) => void,
  ) {
    this.nice = config.chromeNice;
  }

  /** Sets every running browser's tree to `nice` (see reniceTrees), and browsers launched from now on (recycled, replaced after a crash) start there. */
  setNice(nice: number): ReniceResult {
    this.nice = nice;
    return this.renice(this.workers, nice);
  }

  /** `workers`' trees to `nice`, and their stats say so. */
  private renice(workers: BrowserWorker[], nice: number): ReniceResult {
    for (const worker of workers) worker.chrome.priority = { ...worker.chrome.priority, nice };
    return reniceTrees(workers.map((worker) => worker.chrome.pid), nice);
  }

  private async start(): Promise<BrowserWorker> {
    const nice = this.nice;
    const worker = await this.launch(nice);
    // setNice() came while this one launched: it joins the others (a lowering needs no privilege).
    if (this.nice !== nice) this.renice([worker], this.nice);
    return worker;
  }

  private launch(nice: number): Promise<BrowserWorker> {
    return BrowserWorker.start(this.options(nice));
  }

  private options(nice: number): BrowserWorkerOptions {
    return {
      chromePath: this.chromePath,
      extraArgs: this.config.extraChromeArgs ?? [],
      nice,
      session: this.config.chromeSession,
      escapeMs: this.config.chromeEscapeMs,
      isolation: this.config.isolation,
      slots: this.config.pagesPerBrowser,
      pageRecycleAfterJobs: this.config.pageRecycleAfterJobs,
      pageResetTimeoutMs: this.config.pageResetTimeoutMs,
      warmUpRender: this.config.warmUpRender !== false,
      log: this.log,
      onPageRecycled: () => (this.counters.pageRecycles += 1),
      onGone: (worker) => this.onGone(worker),
    };
  }

  /** Browsers that another process let go of (see BrowserWorker.adopt) join the set; their slots go to the queue. */
  async adoptAll(browsers: AdoptableBrowser[]): Promise<number> {
    return this.joinRunning(browsers, (b) => b.handover.binary, (b) => BrowserWorker.adopt(b, this.options(this.nice)), async (browser, why) => {
      this.log('warn', `not taking over Chrome (pid ${browser.handover.pid}): ${why}; it goes, and one is launched`, { pid: browser.handover.pid });
      await discardBrowser(browser);
    });
  }

  /**
   * Browsers another process started join the set, each through `start`, in parallel; one started
   * from another file than the one at `chromePath` now (`binaryOf`, see binaryIdentity) is refused.
   * Each that could not join goes to `failed` with why. Resolves with how many joined.
   */
  private async joinRunning<T>(running: T[], binaryOf: (item: T) => string, start: (item: T) => Promise<BrowserWorker>, failed: (item: T, why: string) => Promise<void> | void): Promise<number> {
    const binary = binaryIdentity(this.chromePath);
    const results = await Promise.allSettled(running.map(async (item) => {
      if (binaryOf(item) !== binary) throw new Error(`it was started from another ${this.chromePath} than the one there now (${binaryOf(item)}, now ${binary})`);
      return start(item);
    }));
    let joined = 0;
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled') joined += (await this.join(result.value)) ? 1 : 0;
      else await failed(running[i] as T, String(result.reason));
    }
    return joined;
  }


  /**
   * Lends every browser to another process (see cdp-relay.ts): each opens a browser-level session
   * for it, whose messages go to `forward` with the browser's index. Resolves with the loans, in
   * that order; a browser that cannot be lent is left out.
   */
  async lendAll(forward: (index: number, batch: string[]) => void): Promise<(ChromeLoan & { index: number })[]> {
    const loans: (ChromeLoan & { index: number })[] = [];
    for (const [index, worker] of this.workers.entries()) {
      if (!worker.usable) continue;
      try {
        loans.push({ ...(await worker.lend((batch) => forward(index, batch))), index });
        this.lent.set(index, worker);
      } catch (error) {
        this.log('warn', `could not lend Chrome (pid ${worker.chrome.pid}) to the successor`, { error: String(error) });
      }
    }
    return loans;
  }

  /** Commands of the borrower for the browser lent under `index`. */
  fromBorrower(index: number, batch: string[]): void {
    this.lent.get(index)?.lentTo?.fromClient(batch);
  }

  /** The borrower went away without taking the browsers: what it opened in them goes. */
  async endLoans(): Promise<void> {
    const lent = [...this.lent.values()];
    this.lent.clear();
    await Promise.all(lent.map((worker) => worker.endLoan()));
  }

  /**
   * Browsers another process lends (see BrowserWorker.borrow) join the set, each with pages of its
   * own warmed as after a launch; `send` carries the commands to the lender. Resolves with how many
   * joined; the configured number is made up by the caller (launchUpTo).
   */
  async borrowAll(loans: (ChromeLoan & { index: number })[], send: (index: number, batch: string[]) => void): Promise<number> {
    return this.joinRunning(loans, (loan) => loan.binary, (loan) => {
      const transport = new RelayedTransport(loan.sessionId, (batch) => send(loan.index, batch));
      this.borrowed.set(loan.index, transport);
      return BrowserWorker.borrow(loan, transport, this.options(this.nice));
    }, (loan, why) => {
      this.borrowed.delete(loan.index);
      this.log('warn', `not using the lent Chrome (pid ${loan.pid}): ${why}; one is launched`, { pid: loan.pid });
    });
  }


  /** What the lender passed on for the browser it lent under `index`. */
  fromLender(index: number, batch: string[]): void {
    this.borrowed.get(index)?.deliver(batch);
  }

  /** Borrowed browsers' commands wait from now on until their pipes come ({@link takePipes}). */
  holdBorrowed(): void {
    for (const transport of this.borrowed.values()) transport.hold();
  }

  /**
   * The pipes of borrowed browsers came (the lender let go of them, QcPool.letGo): this set holds
   * them from now on. The contexts the lender's pages were in (`contextIds`) are closed. Resolves
   * with how many it took; a browser this set did not borrow is discarded.
   */
  async takePipes(browsers: AdoptableBrowser[]): Promise<number> {
    let taken = 0;
    const closing: Promise<unknown>[] = [];
    for (const browser of browsers) {
      const worker = this.workers.find((w) => w.chrome.borrowed && w.chrome.pid === browser.handover.pid);
      if (!worker) {
        this.log('warn', `the lender passed Chrome (pid ${browser.handover.pid}), which this pool did not borrow; it goes`, { pid: browser.handover.pid });
        await discardBrowser(browser);
        continue;
      }
      worker.takePipe(browser.toChrome, browser.fromChrome, Buffer.from(browser.handover.leftover, 'base64'));
      taken += 1;
      // By id: puppeteer here knows only the contexts that existed when it connected.
      closing.push(...browser.contextIds.map((browserContextId) => browserCommand(worker.chrome, 'Target.disposeBrowserContext', { browserContextId }).catch(() => undefined)));
    }
    for (const [index, transport] of this.borrowed) if (transport.pipe) this.borrowed.delete(index);
    await Promise.all(closing);
    return taken;
  }

  /** The lender went away before passing the pipes: the borrowed browsers are gone for this set (each is replaced as after a crash). */
  lenderGone(): void {
    for (const transport of this.borrowed.values()) transport.lost();
    this.borrowed.clear();
  }

  /**
   * Launches browsers in parallel until there are `count` (all of them at a pool's launch; the rest
   * where fewer were taken over); their slots go to the queue. The first failure is thrown once all
   * ended (the pool's launch then closes the others).
   */
  async launchUpTo(count: number): Promise<void> {
    const missing = Math.max(0, count - this.workers.length);
    const results = await Promise.allSettled(Array.from({ length: missing }, () => this.start()));
    for (const result of results) if (result.status === 'fulfilled') await this.join(result.value);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /** A started or adopted browser joins the set and offers its slots; once the set is closed it is closed instead (false). */
  private async join(worker: BrowserWorker): Promise<boolean> {
    if (this.closed) {
      await worker.close(0);
      return false;
    }
    this.workers.push(worker);
    for (const slot of worker.slots) this.offer(slot);
    return true;
  }

  /**
   * With no job running: lets go of every browser for another process (see BrowserWorker.letGo).
   * The set is closed from then on; a browser that cannot be let go of is closed here.
   */
  async letGoAll(nextJobId: number, beforeRelease?: () => Promise<void>): Promise<AdoptableBrowser[]> {
    this.closed = true;
    // A slot still being cleaned after its job would pass on what that job left.
    await Promise.allSettled([...this.launching, ...this.releasing]);
    const all = this.workers;
    this.workers = [];
    const out: AdoptableBrowser[] = [];
    for (const worker of all) {
      try {
        out.push({ ...(await worker.letGo(worker.lentTo ? beforeRelease : undefined)), nextJobId });
      } catch (error) {
        this.log('warn', `could not let go of Chrome (pid ${worker.chrome.pid}); closing it`, { error: String(error) });
        await disposeChrome(worker.chrome, 0).catch(() => undefined);
      }
    }
    // A borrower's commands kept coming until it held them back (beforeRelease): relayed up to then.
    this.lent.clear();
    return out;
  }

  /** Leases an idle slot of a usable browser, or undefined when all are busy. */
  takeIdle(): PoolSlot | undefined {
    for (const worker of this.workers) {
      if (!worker.usable) continue;
      const slot = worker.slots.find((s) => !s.busy);
      if (slot) {
        slot.busy = true;
        return slot;
      }
    }
    return undefined;
  }

  /** After a job: clean the slot, retire its browser if due, then offer the slot to the queue. */
  release(slot: PoolSlot): Promise<void> {
    const releasing = this.releaseSlot(slot);
    this.releasing.add(releasing);
    void releasing.finally(() => this.releasing.delete(releasing)).catch(() => undefined);
    return releasing;
  }

  private async releaseSlot(slot: PoolSlot): Promise<void> {
    const { worker } = slot;
    try {
      await slot.slot.release();
    } finally {
      if (worker.usable && worker.dueForRecycle(this.config.recycleAfterJobs, this.config.recycleAfterMs)) {
        worker.retiring = true;
        this.counters.browserRecycles += 1;
        this.log('info', 'recycling a QC browser', { pid: worker.chrome.pid, jobs: worker.jobsStarted });
        this.spawnReplacement();
      }
      if (worker.usable && !this.closed) {
        this.offer(slot);
      } else {
        slot.busy = false;
        if (worker.retiring && !worker.gone && worker.slots.every((s) => !s.busy)) await this.retire(worker);
      }
    }
  }

  private async retire(worker: BrowserWorker): Promise<void> {
    this.workers = this.workers.filter((w) => w !== worker);
    await worker.close(this.config.closeTimeoutMs);
  }

  private onGone(worker: BrowserWorker): void {
    this.workers = this.workers.filter((w) => w !== worker);
    if (!this.closed && !worker.retiring) this.spawnReplacement(true);
  }

  private spawnReplacement(afterCrash = false): void {
    const task = (async () => {
      for (let attempt = 0; !this.closed; attempt += 1) {
        try {
          if ((await this.join(await this.start())) && afterCrash) this.counters.browserRestarts += 1;
          return;
        } catch (error) {
          const waitMs = RELAUNCH_BACKOFF_MS[Math.min(attempt, RELAUNCH_BACKOFF_MS.length - 1)];
          this.log('error', `could not start a replacement Chrome; retrying in ${waitMs} ms`, { error: String(error) });
          await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
        }
      }
    })();
    this.launching.add(task);
    void task.finally(() => this.launching.delete(task));
  }

  liveCount(): number {
    return this.workers.filter((w) => !w.gone).length;
  }

  slotCounts(): { busy: number; idle: number; total: number } {
    const slots = this.workers.filter((w) => w.usable).flatMap((w) => w.slots);
    const busy = slots.filter((s) => s.busy).length;
    return { busy, idle: slots.length - busy, total: slots.length };
  }

  processes(): QcPoolStats['browserProcesses'] {
    return this.workers.map((w) => ({ pid: w.chrome.pid, profileDir: w.chrome.profileDir, priority: w.chrome.priority }));
  }

  /** Closes every browser (and any being launched); returns how many were closed. */
  async closeAll(deadlineMs: number, pace?: ChromePace): Promise<{ closed: number; paced?: PacedTeardown }> {
    this.closed = true;
    await Promise.allSettled([...this.launching]);
    const all = this.workers;
    this.workers = [];
    if (!pace) {
      await Promise.allSettled(all.map((w) => w.close(deadlineMs)));
      return { closed: all.length };
    }
    // Paced: one browser after another, so that at most one process exits at a time.
    const paced: PacedTeardown = { processes: 0, waitedMs: 0, durationMs: 0 };
    for (const worker of all) {
      const one = await worker.close(deadlineMs, pace).catch(() => undefined);
      paced.processes += one?.processes ?? 0;
      paced.waitedMs += one?.waitedMs ?? 0;
      paced.durationMs += one?.durationMs ?? 0;
    }
    return { closed: all.length, paced };
  }
}
