/**
 * The way out for a Chromium in a scheduling group of its own at a low priority
 * (`chromeSession: 'own'`) when the machine is busy.
 *
 * A group at nice 19 has a weight of 15 against 1,024 at nice 0: next to one process
 * that keeps every core busy it gets about 1.5 % of a core, and measured on 2 cores
 * its start took more than 30 s. So the browser's work is watched: when a start or a
 * render has waited longer than `afterMs`, the group goes up to nice 0 (an equal of any
 * other session, as puppeteer's detached browsers are), and once nothing has waited that
 * long for `afterMs` more, back down to the low value. A group's nice may go down to 0
 * and back up without privilege (only negative values need CAP_SYS_NICE).
 *
 * The threshold must be longer than a start takes under the service's own load: a
 * raise in the middle of a handoff makes the new Chromium an equal of the serving
 * process again, which is the stall this priority exists to prevent. Measured on 2
 * cores at 500 req/s, a successor's Chromium took 3-5 s to start at nice 19; with a
 * threshold of 3 s the switch stalled for 2 s, with 15 s it did not (tools/bench/README.md).
 */

/** Effects, injectable for tests. */
export interface StarvationEscapeEnv {
  /** Writes a nice value to the group; resolves with what happened (`set`, `off`, or why not). */
  write(nice: number): Promise<string>;
  log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void;
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called (the timer must not keep the process alive). */
  every(ms: number, fn: () => void): () => void;
}

export interface StarvationEscapeOptions {
  /** Chrome's pid, for the log. */
  pid: number;
  /** The low nice value the group runs at (changeable: 19 while it starts, the configured one once warm). */
  lowNice: number;
  /** How long a start or render may wait before the group is raised; 0 never raises. */
  afterMs: number;
}

/** Nice value of a raised group: that of any session that did not ask for less. */
const RAISED_NICE = 0;

export class StarvationEscape {
  private readonly pending = new Map<number, { what: string; since: number }>();
  private nextId = 0;
  private raisedAt: number | undefined;
  /** When a check last found work that had waited `afterMs`: the hold before lowering counts from here. */
  private lastStarvedAt = 0;
  private lowNice: number;
  private writing: Promise<void> = Promise.resolve();
  private readonly stopTimer: () => void;
  private stopped = false;

  constructor(private readonly options: StarvationEscapeOptions, private readonly env: StarvationEscapeEnv) {
    this.lowNice = options.lowNice;
    const checkMs = Math.max(100, Math.min(1_000, Math.floor(options.afterMs / 3)));
    this.stopTimer = options.afterMs > 0 ? env.every(checkMs, () => void this.check()) : () => undefined;
  }

  /** True while the group runs raised to nice 0. */
  get raised(): boolean {
    return this.raisedAt !== undefined;
  }

  /** Marks work Chromium must do (`start`, `render`); call the returned function once it is done. */
  begin(what: string): () => void {
    const id = this.nextId++;
    this.pending.set(id, { what, since: this.env.now() });
    return () => void this.pending.delete(id);
  }

  /** Changes the low value (the worker sets the configured one once the pages are warm). */
  async setLowNice(nice: number): Promise<string | undefined> {
    const changed = nice !== this.lowNice;
    this.lowNice = nice;
    return this.raised || !changed ? undefined : this.serial(() => this.env.write(nice));
  }

  /** Looks at the oldest pending work once; the timer calls it (exposed for tests). */
  async check(): Promise<void> {
    if (this.stopped || this.options.afterMs <= 0) return;
    const now = this.env.now();
    const oldest = Math.min(...[...this.pending.values()].map((p) => p.since));
    const waited = Number.isFinite(oldest) ? now - oldest : 0;
    const starved = waited >= this.options.afterMs;
    if (starved) this.lastStarvedAt = now;
    if (starved && !this.raised) {
      this.raisedAt = now;
      const what = [...new Set([...this.pending.values()].filter((p) => now - p.since >= this.options.afterMs).map((p) => p.what))].join(', ');
      const result = await this.serial(() => this.env.write(RAISED_NICE));
      const outcome = result === 'set' || result === 'off' ? '' : ` (the write failed: ${result})`;
      this.env.log('warn', `Chrome (pid ${this.options.pid}) waited ${waited} ms for the CPU (${what}): its scheduling group is raised to nice ${RAISED_NICE} until nothing waits that long${outcome}`, {
        pid: this.options.pid, waitedMs: waited, from: this.lowNice, to: RAISED_NICE, result,
      });
      return;
    }
    if (this.raised && now - this.lastStarvedAt >= this.options.afterMs) {
      const raisedForMs = now - (this.raisedAt as number);
      this.raisedAt = undefined;
      const result = await this.serial(() => this.env.write(this.lowNice));
      this.env.log('info', `Chrome (pid ${this.options.pid}) is back at nice ${this.lowNice}: nothing waited ${this.options.afterMs} ms for ${this.options.afterMs} ms`, {
        pid: this.options.pid, raisedForMs, to: this.lowNice, result,
      });
    }
  }

  /** Stops watching (the browser is closing or gone); nothing is written any more. */
  stop(): void {
    this.stopped = true;
    this.stopTimer();
    this.pending.clear();
  }

  /** Writes one at a time, in order (each may retry for a while under the kernel's rate limit). */
  private serial(write: () => Promise<string>): Promise<string> {
    const result = this.writing.then(() => (this.stopped ? 'stopped' : write()));
    this.writing = result.then(() => undefined, () => undefined);
    return result;
  }
}
