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

  /** Waits for a slot; throws QueueFullError at once when `max` jobs already wait. */
  wait(acquireTimeoutMs: number): Promise<T> {
    if (this.waiters.length >= this.max) return Promise.reject(new QueueFullError(this.retryAfterSec()));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new AcquireTimeoutError(acquireTimeoutMs));
        }, acquireTimeoutMs),
      };
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
