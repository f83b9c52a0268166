import type { Browser, BrowserContext, Page } from 'puppeteer';
import { GuardedPage } from './guarded-page';
import { classifyJobError, withCancel } from './job-deadline';
import { ContentNavigatedError } from './qc-errors';
import type { QcJob, QcJobOutput } from './qc-job.types';
import type { QcSlot, SlotEnv } from './qc-slot.types';

interface WarmPage {
  context: BrowserContext;
  guarded: GuardedPage;
  jobs: number;
}

/**
 * Isolation 'origin': a long-lived page in a browser context of its own (so cookies never
 * cross between concurrent slots) holding a trusted host document. Each job is an iframe of an
 * origin of its own; between jobs the iframe is removed and its origin's data and every cookie
 * are cleared. A page is replaced after `recycleAfterJobs`, after a failed reset, a crash, a
 * timeout or a cancel.
 */
export class WarmPageSlot implements QcSlot {
  private warm: WarmPage | undefined;
  private lastJobId: number | undefined;

  constructor(
    private readonly browser: Browser,
    private readonly env: SlotEnv,
    private readonly options: { recycleAfterJobs: number; resetTimeoutMs: number },
    /** A warm page another process let go of (its context's only page): prepared again here instead of a new one. */
    private adopted?: { context: BrowserContext; page: Page },
  ) {}

  async warmUp(): Promise<void> {
    try {
      if (this.adopted) await this.adopt(this.adopted);
      await this.ensurePage();
    } catch (error) {
      this.env.log('warn', 'could not pre-create a warm QC page; the next job will try again', { error: String(error) });
    }
  }

  /** Guards an adopted page anew (its host document, loaded by the process that let go, is kept); on failure its context goes and a new page follows. */
  private async adopt({ context, page }: { context: BrowserContext; page: Page }): Promise<void> {
    this.adopted = undefined;
    try {
      const guarded = await GuardedPage.prepare(page, { log: this.env.log, mount: 'frame', annotate: this.env.annotate, adopted: true });
      this.warm = { context, guarded, jobs: 0 };
    } catch (error) {
      this.env.log('warn', 'could not guard an adopted QC page; opening a new one', { error: String(error) });
      await context.close().catch(() => undefined);
    }
  }

  async letGo(): Promise<string | undefined> {
    const warm = this.warm;
    this.warm = undefined;
    if (!warm || warm.guarded.crashed) return undefined;
    await warm.guarded.detach();
    return warm.context.id;
  }

  private async ensurePage(): Promise<WarmPage> {
    if (this.warm) return this.warm;
    const context = await this.browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const guarded = await GuardedPage.prepare(page, { log: this.env.log, mount: 'frame', annotate: this.env.annotate });
      this.warm = { context, guarded, jobs: 0 };
      return this.warm;
    } catch (error) {
      await context.close().catch((closeError: unknown) =>
        this.env.log('debug', 'closing a half-created QC context failed', { error: String(closeError) }),
      );
      throw error;
    }
  }

  async run(job: QcJob, signal: AbortSignal): Promise<QcJobOutput> {
    let warm: WarmPage | undefined;
    try {
      warm = await this.ensurePage();
      warm.jobs += 1;
      this.lastJobId = job.id;
      const current = warm;
      return await withCancel(current.guarded.run(job), signal, async () => {
        // Best effort: closing the context below stops the page even if this fails.
        await current.guarded.terminateScript().catch((error: unknown) => this.logStopFailure(error));
        await this.discard();
      });
    } catch (error) {
      const crashed = warm?.guarded.crashed ?? false;
      // A crashed page, or one whose content left its document, is never reused.
      if (crashed || this.env.browserGone() || error instanceof ContentNavigatedError) await this.discard();
      throw classifyJobError(error, this.env.browserGone(), crashed);
    }
  }

  async release(): Promise<void> {
    const warm = this.warm;
    if (!warm || this.lastJobId === undefined) return;
    if (this.env.browserGone()) {
      this.warm = undefined; // the browser is going away; nothing to reset
      return;
    }
    if (warm.jobs >= this.options.recycleAfterJobs || warm.guarded.crashed) {
      await this.discard();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        warm.guarded.reset(this.lastJobId),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('warm page reset timed out')), this.options.resetTimeoutMs);
        }),
      ]);
    } catch (error) {
      this.env.log('warn', 'warm QC page reset failed; replacing the page', { error: String(error) });
      await this.discard();
    } finally {
      clearTimeout(timer);
    }
  }

  browserGone(error: Error): void {
    this.warm?.guarded.abort(error);
    this.warm = undefined;
  }

  private logStopFailure(error: unknown): void {
    this.env.log('debug', 'Runtime.terminateExecution failed on a cancelled job', { error: String(error) });
  }

  private async discard(): Promise<void> {
    const warm = this.warm;
    this.warm = undefined;
    if (!warm) return;
    this.env.onPageRecycled();
    if (this.env.browserGone()) return;
    await warm.context.close().catch((error: unknown) => {
      this.env.log('warn', 'closing a discarded QC page failed', { error: String(error) });
    });
  }
}
