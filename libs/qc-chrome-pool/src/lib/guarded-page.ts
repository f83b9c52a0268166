import type { CDPSession, HTTPRequest, Page } from 'puppeteer';
import { runDomChecks } from './dom-checks';
import { decideRequest, GUARD_INIT_SCRIPT, jobOrigin } from './network-guard';
import { QcReportCollector } from './qc-report.collector';
import type { QcReport } from './qc-report.types';
import type { QcJob, QcJobOutput } from './qc-job.types';

type Log = (level: 'debug' | 'warn', message: string, fields?: Record<string, unknown>) => void;

/**
 * A page behind the network guard. Its listeners are attached once; they route events to the
 * collector of the job that owns the page right now, so nothing of an earlier job reaches a
 * later job's report.
 */
export class GuardedPage {
  private collector: QcReportCollector | undefined;
  private failRun: ((error: Error) => void) | undefined;
  /** Set when the renderer crashed; such a page is never reused. */
  crashed = false;

  private constructor(
    readonly page: Page,
    readonly cdp: CDPSession,
    private readonly log: Log,
  ) {}

  /** Enables interception, the WebSocket observer and the init script on a fresh page. */
  static async prepare(page: Page, log: Log): Promise<GuardedPage> {
    const cdp = await page.createCDPSession();
    const guarded = new GuardedPage(page, cdp, log);
    await cdp.send('Network.enable');
    cdp.on('Network.webSocketCreated', (event) => guarded.collector?.webSocket(event.url));
    await page.evaluateOnNewDocument(GUARD_INIT_SCRIPT);
    await page.setRequestInterception(true);
    page.on('request', (request) => guarded.onRequest(request));
    page.on('requestfailed', (request) =>
      guarded.collector?.failed(request.url(), request.failure()?.errorText ?? 'failed'),
    );
    page.on('console', (message) => guarded.collector?.console(message));
    page.on('pageerror', (error) => guarded.collector?.pageError(error));
    // A popup would be a second window of the job's origin that outlives the job: close it at once.
    page.on('popup', (popup) => {
      if (!popup) return;
      guarded.collector?.blocked(popup.url() || 'about:blank', 'popup windows are not allowed');
      popup.close().catch((error: unknown) => log('debug', 'closing a popup failed', { error: String(error) }));
    });
    page.on('error', (error) => {
      guarded.crashed = true;
      guarded.abort(new Error('the page crashed', { cause: error }));
    });
    return guarded;
  }

  private onRequest(request: HTTPRequest): void {
    if (request.isInterceptResolutionHandled()) return;
    const collector = this.collector;
    const mainNav = request.isNavigationRequest() && request.frame() === this.page.mainFrame();
    const decision = decideRequest(request.url(), collector?.origin, mainNav);
    let done: Promise<void>;
    switch (decision.action) {
      case 'serve-document':
        done = request.respond({ status: 200, contentType: 'text/html; charset=utf-8', body: collector?.html ?? '' });
        break;
      case 'not-found':
        if (decision.report) collector?.failed(request.url(), 'HTTP 404 (only the submitted HTML is served)');
        done = request.respond({ status: 404, contentType: 'text/plain', body: 'not found' });
        break;
      case 'pass':
        done = request.continue();
        break;
      case 'block':
        collector?.blocked(request.url(), decision.reason);
        done = request.abort('blockedbyclient');
        break;
    }
    done.catch((error: unknown) => this.log('debug', 'intercepted request could not be answered', { error: String(error) }));
  }

  /** Fails the running job at once (crash, timeout, browser gone). */
  abort(error: Error): void {
    this.failRun?.(error);
  }

  /** Loads the job's HTML from its own origin, collects the report and, if asked, a PNG. */
  async run(job: QcJob): Promise<QcJobOutput> {
    const collector = new QcReportCollector(jobOrigin(job.id), job.input.html);
    this.collector = collector;
    const failed = new Promise<never>((_, reject) => {
      this.failRun = reject;
    });
    failed.catch(() => undefined); // observed through the race below
    try {
      return await Promise.race([failed, this.render(job, collector)]);
    } finally {
      this.collector = undefined;
      this.failRun = undefined;
    }
  }

  private async render(job: QcJob, collector: QcReportCollector): Promise<QcJobOutput> {
    const { viewport } = job.input;
    await this.page.setViewport(viewport);
    const started = performance.now();
    await this.page.goto(`${collector.origin}/`, { waitUntil: 'load', timeout: 0 });
    if (job.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, job.settleMs));
    const dom = await this.page.evaluate(runDomChecks, 20);
    const report: QcReport = collector.build(dom, performance.now() - started, viewport);
    if (job.kind === 'check') return { report };
    const png = Buffer.from(await this.page.screenshot({ type: 'png' }));
    return { report, png };
  }

  /**
   * Between jobs on a warm page: leave the job's document, clear what its origin left
   * (storage of every kind, service workers, cookies) and drop emulation.
   */
  async reset(lastJobId: number): Promise<void> {
    this.collector = undefined;
    // Any other window of this slot's context (a popup that slipped through) goes first.
    const strays = (await this.page.browserContext().pages()).filter((other) => other !== this.page);
    await Promise.all(strays.map((stray) => stray.close()));
    await this.page.goto('about:blank', { waitUntil: 'load', timeout: 0 });
    // The document is gone (timers, listeners, globals with it); now its origin's data.
    await Promise.all([
      this.cdp.send('Storage.clearDataForOrigin', { origin: jobOrigin(lastJobId), storageTypes: 'all' }),
      // Cookies can be set for the parent domain (qc.invalid) and would reach the next job's origin.
      this.cdp.send('Network.clearBrowserCookies'),
      this.cdp.send('Emulation.clearDeviceMetricsOverride'),
    ]);
  }

  /** Stops the page's script now (even an endless loop) so closing it cannot wait on the renderer. */
  async terminateScript(): Promise<void> {
    await this.cdp.send('Runtime.terminateExecution');
  }
}
