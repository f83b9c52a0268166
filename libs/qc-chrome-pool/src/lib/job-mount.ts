/// <reference lib="dom" />
import type { CDPSession, Frame, HTTPRequest, Page } from 'puppeteer';
import { HOST_URL, type RequestRole } from './network-guard';

/** How a job's document gets into a page and out of it again. */
export interface JobMount {
  /** Readies the page once, before its first job. */
  prepare(): Promise<void>;
  /** Starts loading the job document from `origin` (does not wait for it to load). */
  mount(origin: string): Promise<void>;
  /** The frame holding the job document (after mount). */
  jobFrame(): Frame;
  /** Removes the job document; its unload handlers have run when this resolves. */
  unmount(): Promise<void>;
  /** Whose navigation a request is, for the network guard. */
  roleOf(request: HTTPRequest): RequestRole;
  /** Answers a request that belongs to the mount itself (the host page); undefined when it is not one. */
  handle(request: HTTPRequest): Promise<void> | undefined;
}

/** Trusted, script-free document of a warm page; each job is an iframe filling its viewport. */
const HOST_HTML = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><style>
html,body{margin:0;height:100%;overflow:hidden;background:#fff}
iframe{position:fixed;left:0;top:0;width:100%;height:100%;border:0;display:block}
</style></head><body></body></html>`;

/**
 * Features a top-level page has by default and a cross-origin iframe only when allowed, so the
 * content meets the same permissions it would as a page of its own.
 */
const IFRAME_ALLOW = 'autoplay; fullscreen; clipboard-read; clipboard-write; encrypted-media; picture-in-picture; geolocation; camera; microphone; display-capture; screen-wake-lock';

/**
 * Isolation 'origin': the page keeps a host document at {@link HOST_URL}; each job document is a
 * fresh full-viewport iframe of its own origin, removed after the job. A subframe commit costs the
 * browser far less than a main-frame one (no tab, omnibox or session bookkeeping; README).
 */
export class FrameMount implements JobMount {
  private hostLoading = false;

  constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {}

  async prepare(): Promise<void> {
    this.hostLoading = true;
    try {
      await this.page.goto(HOST_URL, { waitUntil: 'load', timeout: 0 });
    } finally {
      this.hostLoading = false;
    }
    // One history entry: nothing for history.back() in a job to go back to.
    await this.cdp.send('Page.resetNavigationHistory');
  }

  async mount(origin: string): Promise<void> {
    await this.page.mainFrame().evaluate(
      (src, allow) => {
        const frame = document.createElement('iframe');
        frame.setAttribute('allow', allow);
        frame.referrerPolicy = 'no-referrer';
        frame.src = src;
        document.body.appendChild(frame);
      },
      `${origin}/`,
      IFRAME_ALLOW,
    );
  }

  jobFrame(): Frame {
    const frame = this.page.mainFrame().childFrames()[0];
    if (!frame) throw new Error('the job frame is gone from the host page');
    return frame;
  }

  async unmount(): Promise<void> {
    await this.page.mainFrame().evaluate(() => {
      for (const frame of Array.from(document.querySelectorAll('iframe'))) frame.remove();
    });
  }

  roleOf(request: HTTPRequest): RequestRole {
    if (!request.isNavigationRequest()) return 'subresource';
    const frame = request.frame();
    if (frame === this.page.mainFrame()) return 'host-navigation';
    return frame?.parentFrame() === this.page.mainFrame() ? 'job-navigation' : 'subresource';
  }

  handle(request: HTTPRequest): Promise<void> | undefined {
    if (!this.hostLoading || request.url() !== HOST_URL || this.roleOf(request) !== 'host-navigation') return undefined;
    return request.respond({ status: 200, contentType: 'text/html; charset=utf-8', body: HOST_HTML });
  }
}

/** Isolation 'context': the job document is the page's own top-level document. */
export class TopLevelMount implements JobMount {
  constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {}

  async prepare(): Promise<void> {
    return; // a fresh page per job: nothing to ready
  }

  async mount(origin: string): Promise<void> {
    const { errorText } = await this.cdp.send('Page.navigate', { url: `${origin}/` });
    if (errorText) throw new Error(`loading the job document failed: ${errorText}`);
  }

  jobFrame(): Frame {
    return this.page.mainFrame();
  }

  async unmount(): Promise<void> {
    return; // the context is closed after the job
  }

  roleOf(request: HTTPRequest): RequestRole {
    return request.isNavigationRequest() && request.frame() === this.page.mainFrame() ? 'job-navigation' : 'subresource';
  }

  handle(): undefined {
    return undefined;
  }
}
