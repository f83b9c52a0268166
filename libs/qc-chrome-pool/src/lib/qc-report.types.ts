/** Where an element is drawn, in CSS pixels of the rendered page (document coordinates, 0,0 = top left). */
export interface ElementBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What a learner would see broken in one piece of content. */
export interface QcReport {
  /** True when every list below is empty. */
  ok: boolean;
  consoleErrors: { text: string; url?: string; line?: number }[];
  pageErrors: { message: string }[];
  /**
   * Attempts the guard refused: requests outside the job's internal origin, navigations away from
   * the job document, popups, WebRTC (`stun:`/`turn:` URLs), WebTransport, shared workers, file://.
   */
  blockedRequests: { url: string; reason: string }[];
  /** Requests that failed or answered an error status (e.g. a relative image that does not exist). */
  failedRequests: { url: string; errorText: string }[];
  brokenImages: { src: string; box: ElementBox }[];
  /** `<img>` without an alt attribute (alt="" marks a decorative image and is fine). */
  imagesMissingAlt: { src: string; box: ElementBox }[];
  /** Outermost elements whose right edge passes the viewport width. */
  overflowingElements: { selector: string; right: number; viewportWidth: number; box: ElementBox }[];
  renderTimeMs: number;
  cached: boolean;
  viewport: { width: number; height: number };
}

/** Result of the in-page DOM checks that goes into the report. */
export interface DomFindings {
  brokenImages: QcReport['brokenImages'];
  imagesMissingAlt: QcReport['imagesMissingAlt'];
  overflowingElements: QcReport['overflowingElements'];
}
