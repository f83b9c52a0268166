import { BrowserCrashedError, JobTimeoutError, QcError } from './qc-errors';

/**
 * Races `work` against `timeoutMs`. On timeout `onTimeout` runs (it must really stop the work,
 * e.g. terminate the script and close the page) before JobTimeoutError is thrown.
 */
export async function withJobDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Promise<void>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = Symbol('expired');
  work.catch(() => undefined); // may settle after the deadline; its outcome no longer matters
  try {
    const winner = await Promise.race([
      work,
      new Promise<typeof expired>((resolve) => {
        timer = setTimeout(() => resolve(expired), timeoutMs);
      }),
    ]);
    if (winner === expired) {
      await onTimeout();
      throw new JobTimeoutError(timeoutMs);
    }
    return winner as T;
  } finally {
    clearTimeout(timer);
  }
}

/** Turns a low-level failure into the pool's typed error: a gone browser/page becomes BrowserCrashedError. */
export function classifyJobError(error: unknown, browserGone: boolean, pageCrashed: boolean): Error {
  if (error instanceof QcError) return error;
  if (browserGone) return new BrowserCrashedError('the browser crashed or disconnected during the QC job', { cause: error });
  if (pageCrashed) return new BrowserCrashedError('the page renderer crashed during the QC job', { cause: error });
  return new Error('QC job failed inside Chrome; see cause', { cause: error });
}
