import { JobCancelledError, JobTimeoutError } from './qc-errors';

/** How one caller waits for a shared render. */
export interface CallerOptions {
  /** The caller's own bound, counted from the render's start (or its arrival, if later). */
  timeoutMs: number;
  /** Aborting it (the client went away) makes this caller leave with JobCancelledError. */
  signal?: AbortSignal;
}

/**
 * One render shared by every caller that asks for the same result while it runs (single flight;
 * CDNs call it request coalescing). Each caller leaves on its own timeout or signal without
 * touching the others; the render goes on while one caller still waits, and is cancelled (its
 * signal aborted with the last caller's reason) when none does. A failed render fails every
 * caller still waiting with the same error.
 */
export class Flight<T> {
  private callers = 0;
  private started = false;
  private settled = false;
  private readonly startWaiters = new Set<() => void>();
  private readonly controller = new AbortController();
  readonly result: Promise<T>;

  /** `render` gets the cancel signal and calls `started()` once it holds a slot. */
  constructor(render: (signal: AbortSignal, started: () => void) => Promise<T>) {
    this.result = render(this.controller.signal, () => this.markStarted());
    this.result.then(
      () => (this.settled = true),
      () => (this.settled = true), // callers see the error through join(); nobody may be left to
    );
  }

  /** True once every caller left and the render was cancelled: a new caller must start another. */
  get abandoned(): boolean {
    return this.controller.signal.aborted;
  }

  get waiting(): number {
    return this.callers;
  }

  private markStarted(): void {
    this.started = true;
    for (const arm of this.startWaiters) arm();
    this.startWaiters.clear();
  }

  /** Waits for the shared result as one more caller. */
  join(options: CallerOptions): Promise<T> {
    this.callers += 1;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const arm = () => {
        timer = setTimeout(() => leave(new JobTimeoutError(options.timeoutMs)), options.timeoutMs);
      };
      const onAbort = () => leave(new JobCancelledError());
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        this.startWaiters.delete(arm);
        options.signal?.removeEventListener('abort', onAbort);
        this.callers -= 1;
        return true;
      };
      const leave = (error: Error) => {
        if (!finish()) return;
        if (this.callers === 0 && !this.settled) this.controller.abort(error);
        reject(error);
      };
      if (options.signal?.aborted) return leave(new JobCancelledError());
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (this.started) arm();
      else this.startWaiters.add(arm);
      this.result.then(
        (value) => finish() && resolve(value),
        (error: unknown) => finish() && reject(error),
      );
    });
  }
}
