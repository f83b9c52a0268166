/** Base class of every error the QC pool throws; `code` is stable and safe to put in an API response. */
export abstract class QcError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The job input is invalid; `field` names the offending field (e.g. `viewport.width`). */
export class QcInputError extends QcError {
  readonly code = 'qc_bad_input';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** Every slot is busy and the wait queue is full; retry after `retryAfterSec` seconds. */
export class QueueFullError extends QcError {
  readonly code = 'qc_queue_full';
  constructor(readonly retryAfterSec: number) {
    super(`QC queue is full; retry in ${retryAfterSec}s or raise queueMax (QC_QUEUE_MAX)`);
  }
}

/** The job ran longer than its timeout; its page was stopped and thrown away. */
export class JobTimeoutError extends QcError {
  readonly code = 'qc_job_timeout';
  constructor(readonly timeoutMs: number) {
    super(`QC job did not finish within ${timeoutMs} ms; the content probably hangs (endless script?)`);
  }
}

/** No slot became free within the acquire timeout. */
export class AcquireTimeoutError extends QcError {
  readonly code = 'qc_acquire_timeout';
  constructor(readonly acquireTimeoutMs: number) {
    super(`no QC slot became free within ${acquireTimeoutMs} ms; retry later or add browsers/pages`);
  }
}

/** The pool is closing or closed; no new jobs are taken. */
export class PoolClosedError extends QcError {
  readonly code = 'qc_pool_closed';
  constructor(options?: { cause?: unknown }) {
    super('QC pool is closed (the service is shutting down); retry against another instance', options);
  }
}

/** The browser (or the page's renderer) crashed or disconnected during the job. Not retried. */
export class BrowserCrashedError extends QcError {
  readonly code = 'qc_browser_crashed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`${message}; the browser is being replaced, retry the job`, options);
  }
}

/** Every caller of a job went away (disconnected) before it finished; its render was stopped. */
export class JobCancelledError extends QcError {
  readonly code = 'qc_job_cancelled';
  constructor() {
    super('QC job was cancelled: the caller went away before it finished');
  }
}

/**
 * The content replaced its own document by a route the guard does not cover, so a report would
 * describe another document. Not retried; the page is replaced.
 */
export class ContentNavigatedError extends QcError {
  readonly code = 'qc_content_navigated';
  constructor(to: string, options?: { cause?: unknown }) {
    super(`the content left its own document (now at ${to}) before it could be checked; please report this as a guard gap`, options);
  }
}
