import type { Browser, BrowserContext, Page } from 'puppeteer';
import { annotationHtml, annotationItems } from './annotation.html';
import type { QcReport } from './qc-report.types';

type Log = (level: 'debug' | 'warn', message: string, fields?: Record<string, unknown>) => void;

/**
 * Composes annotated screenshots in a clean page of its own, never in the job's page: whatever
 * the content's styles and scripts do, they cannot reach the overlay, and the job's report is
 * the one of an ordinary screenshot job. One page per browser, JavaScript off, nothing but data:
 * URLs loaded; jobs take turns on it.
 */
export class Annotator {
  private page: Promise<{ context: BrowserContext; page: Page }> | undefined;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly browser: Browser,
    private readonly log: Log,
  ) {}

  private open(): Promise<{ context: BrowserContext; page: Page }> {
    this.page ??= (async () => {
      const context = await this.browser.createBrowserContext();
      const page = await context.newPage();
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        const allowed = request.url().startsWith('data:') || request.url() === 'about:blank';
        (allowed ? request.continue() : request.abort('blockedbyclient')).catch((error: unknown) =>
          this.log('debug', 'annotator request could not be answered', { error: String(error) }),
        );
      });
      return { context, page };
    })();
    this.page.catch(() => {
      this.page = undefined; // the next job tries again; this one fails with the error
    });
    return this.page;
  }

  /** The PNG with each reported element outlined and numbered, and a legend below it. */
  compose(png: Buffer, report: QcReport, scroll: { x: number; y: number }): Promise<Buffer> {
    const work = this.turn.then(async () => {
      const { page } = await this.open();
      const { html, width, height } = annotationHtml(png.toString('base64'), report.viewport, annotationItems(report), scroll);
      await page.setViewport({ width, height });
      await page.setContent(html, { waitUntil: 'load', timeout: 0 });
      return Buffer.from(await page.screenshot({ type: 'png' }));
    });
    this.turn = work.catch(() => undefined); // the next composition waits for this one, not for its outcome
    return work;
  }

  /** Closes the annotator's page (the browser is going away or being retired). */
  async close(): Promise<void> {
    const opened = this.page;
    this.page = undefined;
    if (!opened) return;
    try {
      await (await opened).context.close();
    } catch (error) {
      this.log('debug', 'closing the annotator page failed', { error: String(error) });
    }
  }
}
