import { AcquireTimeoutError, QueueFullError } from './qc-errors';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Bounded FIFO of jobs waiting for a slot, each with an acquire timeout. */
export class JobQueue<T> {
  private readonly waiters: Waiter<T>[] = [];

  constructor(
    private readonly max: number,
    private readonly retryAfterSec: () => number,
  ) {}

  get length(): number {
    return this.waiters.length;
  }

  /**
   * Waits for a slot; throws QueueFullError at once when `max` jobs already wait. An abort of
   * `signal` takes the job out of the queue and rejects with the signal's reason.
   */
  wait(acquireTimeoutMs: number, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiters.length >= this.max) return Promise.reject(new QueueFullError(this.retryAfterSec()));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        clearTimeout(waiter.timer);
        reject(signal?.reason);
      };
      const waiter: Waiter<T> = {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        timer: setTimeout(() => {
          this.remove(waiter);
          waiter.reject(new AcquireTimeoutError(acquireTimeoutMs));
        }, acquireTimeoutMs),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives `value` to the oldest waiter; false when nobody waits. */
  handOff(value: T): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    clearTimeout(waiter.timer);
    waiter.resolve(value);
    return true;
  }

  /** Rejects every waiter (pool closing); returns how many there were. */
  rejectAll(error: Error): number {
    const all = this.waiters.splice(0);
    for (const waiter of all) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    return all.length;
  }

  private remove(waiter: Waiter<T>): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
  }
}
