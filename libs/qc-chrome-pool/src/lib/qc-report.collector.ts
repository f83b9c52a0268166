import type { ConsoleMessage } from 'puppeteer';
import { BLOCKED_MARKER, isNetworkConsoleNoise, localResourceFromConsole } from './network-guard';
import type { DomFindings, QcReport } from './qc-report.types';

/** Gathers one job's events; a page routes its events here only while this job owns it. */
export class QcReportCollector {
  readonly consoleErrors: QcReport['consoleErrors'] = [];
  readonly pageErrors: QcReport['pageErrors'] = [];
  readonly blockedRequests: QcReport['blockedRequests'] = [];
  readonly failedRequests: QcReport['failedRequests'] = [];
  private readonly blockedUrls = new Set<string>();

  constructor(
    readonly origin: string,
    readonly html: string,
  ) {}

  blocked(url: string, reason: string): void {
    if (this.blockedUrls.has(url)) return;
    this.blockedUrls.add(url);
    this.blockedRequests.push({ url, reason });
  }

  failed(url: string, errorText: string): void {
    if (this.blockedUrls.has(url)) return; // already listed as blocked
    this.failedRequests.push({ url, errorText });
  }

  console(message: ConsoleMessage): void {
    const text = message.text();
    if (text.startsWith(BLOCKED_MARKER)) {
      this.blocked(text.slice(BLOCKED_MARKER.length), 'local file access is not allowed');
      return;
    }
    const local = localResourceFromConsole(text);
    if (local) this.blocked(local, 'local file access is not allowed');
    if (message.type() !== 'error' || isNetworkConsoleNoise(text)) return;
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
    this.blocked(url, 'WebSocket connections are not allowed');
  }

  build(dom: DomFindings, renderTimeMs: number, viewport: QcReport['viewport']): QcReport {
    const lists = {
      consoleErrors: [...this.consoleErrors],
      pageErrors: [...this.pageErrors],
      blockedRequests: [...this.blockedRequests],
      failedRequests: [...this.failedRequests],
      brokenImages: dom.brokenImages,
      imagesMissingAlt: dom.imagesMissingAlt,
      overflowingElements: dom.overflowingElements,
    };
    const ok = Object.values(lists).every((list) => list.length === 0);
    return { ok, ...lists, renderTimeMs: Math.round(renderTimeMs), cached: false, viewport };
  }
}
