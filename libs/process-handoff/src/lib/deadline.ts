import type { ProcessEnvironment } from './process-environment';

/** Settles like `promise`, or with `fallback` once `ms` passed; the timer is cleared either way. */
export function withDeadline<T>(timers: Pick<ProcessEnvironment, 'setTimer' | 'clearTimer'>, promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: unknown;
  const expired = new Promise<T>((resolve) => {
    timer = timers.setTimer(() => resolve(fallback()), ms);
  });
  return Promise.race([promise, expired]).finally(() => timers.clearTimer(timer));
}
