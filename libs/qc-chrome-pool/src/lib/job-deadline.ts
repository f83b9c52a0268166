import { BrowserCrashedError, QcError } from './qc-errors';

/**
 * Races `work` against `signal`. When the signal aborts (every caller timed out or went away),
 * `onCancel` runs (it must really stop the work: terminate the script, close the page) and the
 * signal's reason is thrown.
 */
export async function withCancel<T>(work: Promise<T>, signal: AbortSignal, onCancel: () => Promise<void>): Promise<T> {
  work.catch(() => undefined); // may settle after the cancel; its outcome no longer matters
  let onAbort: (() => void) | undefined;
  const cancelled = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  cancelled.catch(() => undefined); // observed through the race below
  try {
    return await Promise.race([work, cancelled]);
  } catch (error) {
    if (signal.aborted && error === signal.reason) await onCancel();
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Turns a low-level failure into the pool's typed error: a gone browser/page becomes BrowserCrashedError. */
export function classifyJobError(error: unknown, browserGone: boolean, pageCrashed: boolean): Error {
  if (error instanceof QcError) return error;
  if (browserGone) return new BrowserCrashedError('the browser crashed or disconnected during the QC job', { cause: error });
  if (pageCrashed) return new BrowserCrashedError('the page renderer crashed during the QC job', { cause: error });
  return new Error('QC job failed inside Chrome; see cause', { cause: error });
}
