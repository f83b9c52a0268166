/** What a learner would see broken in one piece of content. */
export interface QcReport {
  /** True when every list below is empty. */
  ok: boolean;
  consoleErrors: { text: string; url?: string; line?: number }[];
  pageErrors: { message: string }[];
  /** Requests the network guard refused (anything outside the job's internal origin). */
  blockedRequests: { url: string; reason: string }[];
  /** Requests that failed or answered an error status (e.g. a relative image that does not exist). */
  failedRequests: { url: string; errorText: string }[];
  brokenImages: { src: string }[];
  /** `<img>` without an alt attribute (alt="" marks a decorative image and is fine). */
  imagesMissingAlt: { src: string }[];
  /** Outermost elements whose right edge passes the viewport width. */
  overflowingElements: { selector: string; right: number; viewportWidth: number }[];
  renderTimeMs: number;
  cached: boolean;
  viewport: { width: number; height: number };
}

/** Result of the in-page DOM checks. */
export interface DomFindings {
  brokenImages: { src: string }[];
  imagesMissingAlt: { src: string }[];
  overflowingElements: { selector: string; right: number; viewportWidth: number }[];
}
