import type { CDPSession, HTTPRequest, Page, Target } from 'puppeteer';
import { BLOCK_REASONS, BLOCKED_MARKER, LOADED_MARKER } from './block-reasons';
import { runDomChecks, type DomCheckResult } from './dom-checks';
import { FrameMount, TopLevelMount, type JobMount } from './job-mount';
import { decideRequest, JOB_ORIGIN_PATTERN, jobOrigin } from './network-guard';
import { installPageGuard } from './page-guard.page-script';
import { ContentNavigatedError } from './qc-errors';
import { QC_DEFAULT_VIEWPORT } from './qc-input';
import { QcReportCollector } from './qc-report.collector';
import type { QcReport } from './qc-report.types';
import type { QcJob, QcJobOutput } from './qc-job.types';

type Log = (level: 'debug' | 'warn', message: string, fields?: Record<string, unknown>) => void;

async function closeTarget(target: Target): Promise<void> {
  await (await target.page())?.close();
}

/** Storage a job's origin can hold (the shader cache is the GPU's, not the content's, and costly to clear). */
const JOB_STORAGE_TYPES = 'local_storage,indexeddb,cache_storage,service_workers,file_systems';

export interface GuardedPageOptions {
  log: Log;
  /** 'frame': jobs in iframes of a warm host page (isolation 'origin'); 'top': the page's own document. */
  mount: 'frame' | 'top';
  /**
   * The page was guarded by another process until it let go of it between jobs (BrowserWorker.adopt):
   * its host document is loaded already, so it is kept rather than loaded again.
   */
  adopted?: boolean;
  /** Draws the report's elements onto a screenshot (annotated-screenshot jobs). */
  annotate: (png: Buffer, report: QcReport, scroll: DomCheckResult['scroll']) => Promise<Buffer>;
}

/**
 * A page behind the network guard. Its listeners are attached once; they route events to the
 * collector of the job that owns the page right now, so nothing of an earlier job reaches a
 * later job's report.
 */
export class GuardedPage {
  private collector: QcReportCollector | undefined;
  private failRun: ((error: Error) => void) | undefined;
  private viewport: QcJob['input']['viewport'] | undefined;
  /** Set when the renderer crashed; such a page is never reused. */
  crashed = false;

  private constructor(
    readonly page: Page,
    readonly cdp: CDPSession,
    private readonly mount: JobMount,
    private readonly options: GuardedPageOptions,
  ) {}

  /** Enables interception, the in-page guard and the event routing on a fresh page. */
  static async prepare(page: Page, options: GuardedPageOptions): Promise<GuardedPage> {
    const cdp = await page.createCDPSession();
    const mount = options.mount === 'frame' ? new FrameMount(page, cdp) : new TopLevelMount(page, cdp);
    const guarded = new GuardedPage(page, cdp, mount, options);
    await page.evaluateOnNewDocument(installPageGuard, { blockedMarker: BLOCKED_MARKER, loadedMarker: LOADED_MARKER, jobOriginPattern: JOB_ORIGIN_PATTERN });
    await page.setRequestInterception(true);
    page.on('request', (request) => guarded.onRequest(request));
    page.on('requestfailed', (request) => guarded.collector?.failed(request.url(), request.failure()?.errorText ?? 'failed'));
    page.on('console', (message) => guarded.collector?.console(message));
    page.on('pageerror', (error) => guarded.collector?.pageError(error));
    page.on('dialog', (dialog) => void dialog.dismiss().catch((error: unknown) => options.log('debug', 'dismissing a dialog failed', { error: String(error) })));
    // WebSockets of workers: the in-page guard does not run there; their sessions tell us.
    page.on('workercreated', (worker) => worker.client.on('Network.webSocketCreated', (event) => guarded.collector?.webSocket(event.url)));
    // A window the in-page guard did not stop would be a second window of the job's origin that
    // outlives the job: close it at once (the reset also closes any left in the slot's context).
    page.browserContext().on('targetcreated', (target) => {
      if (target.type() !== 'page' || target === page.target()) return;
      guarded.collector?.blocked(target.url() || 'about:blank', BLOCK_REASONS.popup);
      void closeTarget(target).catch((error: unknown) => options.log('debug', 'closing a popup failed', { error: String(error) }));
    });
    page.on('error', (error) => {
      guarded.crashed = true;
      guarded.abort(new Error('the page crashed', { cause: error }));
    });
    page.on('close', () => guarded.abort(new Error('the page was closed under the job')));
    if (!options.adopted || options.mount !== 'frame') await mount.prepare();
    // The viewport a job sets is the session's own: an adopted page is back at the window's size.
    // Set the usual one now rather than in the first job after the take-over.
    if (options.adopted) await guarded.setViewport(QC_DEFAULT_VIEWPORT);
    return guarded;
  }

  private onRequest(request: HTTPRequest): void {
    if (request.isInterceptResolutionHandled()) return;
    const collector = this.collector;
    const done = this.mount.handle(request) ?? this.answer(request, collector);
    done.catch((error: unknown) => this.options.log('debug', 'intercepted request could not be answered', { error: String(error) }));
  }

  private answer(request: HTTPRequest, collector: QcReportCollector | undefined): Promise<void> {
    const decision = decideRequest(request.url(), collector?.origin, this.mount.roleOf(request), collector?.documentServed ?? true);
    switch (decision.action) {
      case 'serve-document':
        if (collector) collector.documentServed = true;
        return request.respond({ status: 200, contentType: 'text/html; charset=utf-8', body: collector?.html ?? '' });
      case 'not-found':
        if (decision.report) collector?.failed(request.url(), 'HTTP 404 (only the submitted HTML is served)');
        return request.respond({ status: 404, contentType: 'text/plain', body: 'not found' });
      case 'pass':
        return request.continue();
      case 'block':
        collector?.blocked(request.url(), decision.reason);
        // A cancelled navigation keeps the current document; a blocked one would commit an error page.
        return request.abort(decision.keepDocument ? 'aborted' : 'blockedbyclient');
    }
  }

  private async setViewport(viewport: QcJob['input']['viewport']): Promise<void> {
    if (this.viewport?.width === viewport.width && this.viewport?.height === viewport.height) return;
    await this.page.setViewport(viewport);
    this.viewport = viewport;
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
      this.collector = undefined; // later events of this document belong to no report
      this.failRun = undefined;
    }
  }

  private async render(job: QcJob, collector: QcReportCollector): Promise<QcJobOutput> {
    const { viewport } = job.input;
    await this.setViewport(viewport);
    const started = performance.now();
    await this.mount.mount(collector.origin);
    await collector.loaded;
    if (job.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, job.settleMs));
    const dom = await this.checks(collector);
    const report: QcReport = collector.build(dom, performance.now() - started, viewport);
    if (job.kind === 'check') return { report };
    const png = Buffer.from(await this.page.screenshot({ type: 'png' }));
    if (job.kind === 'screenshot') return { report, png };
    return { report, png: await this.options.annotate(png, report, dom.scroll) };
  }

  /** The DOM checks, on the job's own document or not at all. */
  private async checks(collector: QcReportCollector): Promise<DomCheckResult> {
    const frame = this.mount.jobFrame();
    try {
      const dom = await frame.evaluate(runDomChecks, 20);
      if (!dom.documentUrl.startsWith(`${collector.origin}/`)) throw new ContentNavigatedError(dom.documentUrl);
      return dom;
    } catch (error) {
      if (error instanceof ContentNavigatedError || frame.url().startsWith(`${collector.origin}/`)) throw error;
      throw new ContentNavigatedError(frame.url(), { cause: error });
    }
  }

  /**
   * Between jobs on a warm page: remove the job's document (its unload handlers run and its
   * timers die with it), then clear what its origin left and every cookie (a cookie can be set
   * for the parent domain qc.invalid and would reach the next job's origin).
   */
  async reset(lastJobId: number): Promise<void> {
    this.collector = undefined;
    // Any other window of this slot's context (a popup that slipped through) goes first.
    const strays = (await this.page.browserContext().pages()).filter((other) => other !== this.page);
    await Promise.all(strays.map((stray) => stray.close()));
    await this.mount.unmount();
    await Promise.all([
      this.cdp.send('Storage.clearDataForOrigin', { origin: jobOrigin(lastJobId), storageTypes: JOB_STORAGE_TYPES }),
      this.cdp.send('Network.clearBrowserCookies'),
    ]);
  }

  /** Detaches this process's own session of the page (its auto-attached one goes with the connection's auto-attach). */
  async detach(): Promise<void> {
    this.collector = undefined;
    await this.cdp.detach();
  }

  /** Stops the page's script now (even an endless loop) so closing it cannot wait on the renderer. */
  async terminateScript(): Promise<void> {
    await this.cdp.send('Runtime.terminateExecution');
  }
}
