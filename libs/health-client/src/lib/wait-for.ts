import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { check as realCheck, DEFAULT_CHECK_TIMEOUT_MS } from './check';
import type { HealthResult } from './health.types';

/** Options of {@link waitFor}. Give either `timeoutMs` or an absolute `deadline`. */
export interface WaitForOptions {
  /** Budget in ms from the call. */
  readonly timeoutMs?: number;
  /** Absolute time (on the `now` clock) after which waiting stops. */
  readonly deadline?: number;
  /** Pause between polls; `initialMs` is also the pause between consecutive successes. */
  readonly interval?: Partial<BackoffOptions>;
  /** How many answers in a row must satisfy the predicate. Default 1. */
  readonly consecutive?: number;
  /** Per-request timeout handed to `check`. */
  readonly requestTimeoutMs?: number;
  /** Called with every answer (progress reporting). */
  readonly onResult?: (result: HealthResult) => void;
  /** Injected side effects. */
  readonly check?: (url: string, options: { timeoutMs?: number }) => Promise<HealthResult>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What {@link waitFor} found: `met` tells whether the predicate held before the deadline. */
export interface WaitForOutcome {
  readonly met: boolean;
  /** The last answer seen (the one that completed the run when `met`). */
  readonly last: HealthResult | undefined;
  readonly attempts: number;
  readonly elapsedMs: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `url` with backoff until `predicate` holds for `consecutive` answers in a row,
 * or the deadline passes. Never throws for an unhealthy or unreachable endpoint; the
 * caller decides what a missed deadline means.
 *
 * @example
 * const out = await waitFor(url, (r) => r.state === 'ready', { timeoutMs: 30_000, consecutive: 3 });
 */
export async function waitFor(
  url: string,
  predicate: (result: HealthResult) => boolean,
  options: WaitForOptions,
): Promise<WaitForOutcome> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? realSleep;
  const doCheck = options.check ?? ((u: string, o: { timeoutMs?: number }) => realCheck(u, o));
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.interval };
  const started = now();
  const deadline = options.deadline ?? started + (options.timeoutMs ?? 0);
  const needed = Math.max(1, options.consecutive ?? 1);
  let streak = 0;
  let misses = 0;
  let attempts = 0;
  let last: HealthResult | undefined;
  for (;;) {
    const remaining = deadline - now();
    const requestTimeout = Math.max(1, Math.min(options.requestTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS, remaining));
    last = await doCheck(url, { timeoutMs: requestTimeout });
    attempts += 1;
    options.onResult?.(last);
    if (predicate(last)) {
      streak += 1;
      if (streak >= needed) return { met: true, last, attempts, elapsedMs: now() - started };
    } else {
      streak = 0;
      misses += 1;
    }
    const delay = streak > 0 ? backoff.initialMs : backoffDelay(misses - 1, backoff);
    if (now() + delay > deadline) return { met: false, last, attempts, elapsedMs: now() - started };
    await sleep(delay);
  }
}
