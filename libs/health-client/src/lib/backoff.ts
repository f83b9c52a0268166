/** Shape of the pause between polls: starts at `initialMs`, grows by `factor`, capped at `maxMs`. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

/** Default polling cadence: 100 ms, then x1.5 up to 1 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 1000, factor: 1.5 };

/**
 * The delay before poll number `attempt` (0-based), exponential and capped.
 * @example backoffDelay(3, { initialMs: 100, maxMs: 1000, factor: 2 }) // 800
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const raw = options.initialMs * Math.pow(options.factor, Math.max(0, attempt));
  return Math.min(options.maxMs, Math.round(raw));
}
