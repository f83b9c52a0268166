import type { ProcessEnvironment } from './process-environment';

/**
 * A retiring predecessor's view of its successor's work whose latency counts (a render), as
 * the successor reports it once asked (`Upgrader.retiring()`): what the predecessor waits on
 * before each step of letting go of what it holds, so that no step runs beside such work.
 *
 * Why: what a process's exit costs (the kernel freeing its memory) cannot be stopped once it
 * began, and any work on the other CPU made a render 1.2-1.4 times slower
 * (tools/bench/README.md, "A retirement paced by the successor's work").
 *
 * Once asked ({@link expectReports}), the successor's state is unknown until its first report
 * arrives: a wait then lasts until that report, within the same bound. A successor that never
 * reports (it does not yield, or an older build) costs that one bounded wait; from then on it
 * counts as idle.
 */
export class SuccessorWork {
  private busy = false;
  private unknown = false;
  private ended = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly env: Pick<ProcessEnvironment, 'now' | 'setTimer' | 'clearTimer'>) {}

  /** The successor was asked to report its work: until its first report, waits wait for it. */
  expectReports(): void {
    if (!this.ended) this.unknown = true;
  }

  /** The successor's report: its work began (`true`) or none is left (`false`). Ignored once ended. */
  report(busy: boolean): void {
    if (this.ended) return;
    this.unknown = false;
    this.busy = busy;
    if (!busy) this.wake();
  }

  /** The successor is gone, or cannot report any more: nothing is waited for from now on. */
  end(): void {
    this.ended = true;
    this.busy = false;
    this.unknown = false;
    this.wake();
  }

  /**
   * Resolves once the successor has no such work in flight (at once when it has none), or
   * after `maxWaitMs`, whichever comes first; with the milliseconds it waited. Never rejects.
   */
  idle(maxWaitMs: number): Promise<number> {
    if ((!this.busy && !this.unknown) || maxWaitMs <= 0) return Promise.resolve(0);
    const since = this.env.now();
    return new Promise((resolve) => {
      const done = (timedOut: boolean) => {
        this.waiters.delete(wake);
        this.env.clearTimer(timer);
        if (timedOut) this.unknown = false; // no report within the bound: it does not report
        resolve(Math.max(0, this.env.now() - since));
      };
      const wake = () => done(false);
      const timer = this.env.setTimer(() => done(true), maxWaitMs);
      this.waiters.add(wake);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
