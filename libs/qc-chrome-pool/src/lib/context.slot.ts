import type { Browser, BrowserContext } from 'puppeteer';
import { GuardedPage } from './guarded-page';
import { classifyJobError, withCancel } from './job-deadline';
import type { QcJob, QcJobOutput } from './qc-job.types';
import type { QcSlot, SlotEnv } from './qc-slot.types';

/** Isolation 'context': every job gets a fresh incognito browser context (and renderer). */
export class ContextSlot implements QcSlot {
  private context: BrowserContext | undefined;
  private guarded: GuardedPage | undefined;

  constructor(
    private readonly browser: Browser,
    private readonly env: SlotEnv,
  ) {}

  async warmUp(): Promise<void> {
    return; // nothing survives between jobs in this mode
  }

  async run(job: QcJob, signal: AbortSignal): Promise<QcJobOutput> {
    try {
      const work = (async () => {
        this.context = await this.browser.createBrowserContext();
        const page = await this.context.newPage();
        this.guarded = await GuardedPage.prepare(page, { log: this.env.log, mount: 'top', annotate: this.env.annotate });
        return this.guarded.run(job);
      })();
      return await withCancel(work, signal, async () => {
        // Best effort: closing the context below stops the page even if this fails.
        await this.guarded?.terminateScript().catch((error: unknown) =>
          this.env.log('debug', 'Runtime.terminateExecution failed on a cancelled job', { error: String(error) }),
        );
        await this.closeContext();
      });
    } catch (error) {
      throw classifyJobError(error, this.env.browserGone(), this.guarded?.crashed ?? false);
    }
  }

  async release(): Promise<void> {
    await this.closeContext();
  }

  browserGone(error: Error): void {
    this.guarded?.abort(error);
  }

  private async closeContext(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    this.guarded = undefined;
    if (!context || this.env.browserGone()) return;
    await context.close().catch((error: unknown) => {
      this.env.log('warn', 'closing a QC browser context failed', { error: String(error) });
    });
  }

  /** Nothing warm between jobs: a context lives for one job. */
  async letGo(): Promise<string | undefined> {
    return undefined;
  }
}
