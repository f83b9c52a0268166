import type { ConsoleMessage } from 'puppeteer';
import { BLOCK_REASONS, blockedFromConsole, isGuardConsoleNoise, LOADED_MARKER, parseBlockedMarker, type BlockKind } from './block-reasons';
import type { DomCheckResult } from './dom-checks';
import { CONTENT_ORIGIN, decideRequest, navigationReason } from './network-guard';
import type { QcReport } from './qc-report.types';

const byText = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** Gathers one job's events; a page routes its events here only while this job owns it. */
export class QcReportCollector {
  private readonly consoleErrors: QcReport['consoleErrors'] = [];
  private readonly pageErrors: QcReport['pageErrors'] = [];
  private readonly blockedRequests: QcReport['blockedRequests'] = [];
  private readonly failedRequests: QcReport['failedRequests'] = [];
  private readonly blockedKeys = new Set<string>();
  private readonly blockedUrls = new Set<string>();
  private markLoaded: () => void = () => undefined;
  /** Resolves when the job document's load event has fired (told by the in-page guard). */
  readonly loaded = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });
  /** Set once the job document has been served; every later navigation of the job frame is refused. */
  documentServed = false;

  constructor(
    readonly origin: string,
    readonly html: string,
  ) {}

  blocked(url: string, reason: string): void {
    const key = `${url}\n${reason}`;
    if (this.blockedKeys.has(key)) return;
    this.blockedKeys.add(key);
    this.blockedUrls.add(url);
    this.blockedRequests.push({ url, reason });
  }

  failed(url: string, errorText: string): void {
    if (this.blockedUrls.has(url)) return; // already listed as blocked
    this.failedRequests.push({ url, errorText });
  }

  private attempt(kind: BlockKind, url: string): void {
    this.blocked(url, kind === 'nav' ? navigationReason(url) : BLOCK_REASONS[kind]);
  }

  console(message: ConsoleMessage): void {
    const text = message.text();
    if (text === LOADED_MARKER) return this.markLoaded();
    const marked = parseBlockedMarker(text);
    if (marked) return this.attempt(marked.kind, marked.url);
    const refused = blockedFromConsole(text);
    if (refused) this.attempt(refused.kind, refused.url);
    if (message.type() !== 'error' || isGuardConsoleNoise(text)) return;
    const location = message.location();
    this.consoleErrors.push({
      text,
      ...(location.url ? { url: location.url } : {}),
      ...(location.lineNumber !== undefined ? { line: location.lineNumber + 1 } : {}),
    });
  }

  pageError(error: unknown): void {
    this.pageErrors.push({ message: error instanceof Error ? error.message : String(error) });
  }

  webSocket(url: string): void {
    this.attempt('websocket', url);
  }

  /** Attempts the DOM declares whenever they would fire: meta refresh, preconnect and the like. */
  private declared(dom: DomCheckResult): void {
    for (const url of dom.navigations) this.attempt('nav', url);
    for (const url of dom.connections) {
      const decision = decideRequest(url, this.origin, 'subresource', true);
      if (decision.action === 'block') this.blocked(url, decision.reason);
    }
  }

  /**
   * The report, in a form that depends only on the content: the job's own origin is written as
   * {@link CONTENT_ORIGIN} and request lists are sorted (their arrival order is a race).
   */
  build(dom: DomCheckResult, renderTimeMs: number, viewport: QcReport['viewport']): QcReport {
    this.declared(dom);
    const stable = (text: string) => text.split(this.origin).join(CONTENT_ORIGIN);
    const lists = {
      consoleErrors: this.consoleErrors.map((e) => ({ ...e, text: stable(e.text), ...(e.url ? { url: stable(e.url) } : {}) })),
      pageErrors: this.pageErrors.map((e) => ({ message: stable(e.message) })),
      blockedRequests: this.blockedRequests
        .map((b) => ({ url: stable(b.url), reason: b.reason }))
        .sort(byText((b) => `${b.url}\n${b.reason}`)),
      failedRequests: this.failedRequests
        .map((f) => ({ url: stable(f.url), errorText: f.errorText }))
        .sort(byText((f) => `${f.url}\n${f.errorText}`)),
      brokenImages: dom.brokenImages.map((i) => ({ ...i, src: stable(i.src) })),
      imagesMissingAlt: dom.imagesMissingAlt.map((i) => ({ ...i, src: stable(i.src) })),
      overflowingElements: dom.overflowingElements,
    };
    const ok = Object.values(lists).every((list) => list.length === 0);
    return { ok, ...lists, renderTimeMs: Math.round(renderTimeMs), cached: false, viewport };
  }
}
