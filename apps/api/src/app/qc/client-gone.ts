import type { Response } from 'express';

/**
 * An AbortSignal that aborts when the client goes away before its answer is sent (the socket
 * closes first). The QC pool then drops this caller; a render shared with other callers goes on.
 */
export function signalOnClientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
