import type { InFlightRegistry } from './in-flight-registry';
import type { ShutdownDeps } from './shutdown-events';
import type { Linger, ShutdownHook, ShutdownOptions, StopOptions } from './shutdown-options';
import { isNewInterrupt, signalAction, type SignalHistory, type StopSignal } from './signal-policy';
import { isAdmitting, isReady, phaseOf, transition, type ShutdownEvent, type ShutdownPhase, type ShutdownState } from './shutdown-state';

/** What `/health` shows of the shutdown. */
export interface ShutdownSnapshot {
  phase: ShutdownPhase;
  ready: boolean;
  admitting: boolean;
  inFlight: number;
  oldestInFlightMs: number;
  byRoute: Record<string, number>;
  drainingSince: string | null;
  deadline: string | null;
}

/** Called after every state change with the new state and the one before. */
export type ShutdownStateListener = (state: ShutdownState, previous: ShutdownState) => void;

/**
 * Runs the shutdown once, in order, each step bounded:
 * readiness off -> optional propagation delay -> refuse new work -> drain
 * in-flight (until zero or the deadline) -> cleanup hooks (each bounded, all run
 * even if one fails) -> exit 0. Signals go through {@link handleSignal}.
 */
export class ShutdownCoordinator {
  private current: ShutdownState = 'starting';
  private readonly hooks: ShutdownHook[] = [];
  private readonly listeners = new Set<ShutdownStateListener>();
  private interrupts = 0;
  private lastInterruptAt: number | null = null;
  private drainingSince: number | null = null;
  private deadline: number | null = null;
  private skipping = false;
  private wake: (() => void) | null = null;
  private finished: Promise<void> | null = null;

  constructor(
    private readonly registry: InFlightRegistry,
    private readonly options: ShutdownOptions,
    private readonly deps: ShutdownDeps,
  ) {}

  get state(): ShutdownState {
    return this.current;
  }

  snapshot(): ShutdownSnapshot {
    const work = this.registry.snapshot();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      phase: phaseOf(this.current),
      ready: isReady(this.current),
      admitting: isAdmitting(this.current),
      inFlight: work.count,
      oldestInFlightMs: work.oldestInFlightMs,
      byRoute: work.byRoute,
      drainingSince: iso(this.drainingSince),
      deadline: iso(this.deadline),
    };
  }

  /** Listens to every state change (the HTTP edge closes idle sockets on `draining`). */
  onStateChange(listener: ShutdownStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a cleanup hook; hooks run in the order they were added. */
  addHook(hook: ShutdownHook): void {
    this.hooks.push(hook);
  }

  /** The service serves: readiness turns 200. */
  markStarted(): void {
    this.apply({ type: 'started' }, 'started');
  }

  /** Applies the signal policy: begin, ignore, skip the drain, or exit 1 at once. */
  handleSignal(signal: StopSignal): void {
    const now = this.deps.now();
    const history: SignalHistory = {
      begun: this.finished !== null,
      interrupts: this.interrupts,
      sinceLastInterruptMs: this.lastInterruptAt === null ? undefined : now - this.lastInterruptAt,
    };
    const action = signalAction(history, signal);
    if (signal === 'SIGINT') {
      if (isNewInterrupt(history)) this.interrupts += 1;
      this.lastInterruptAt = now;
    }
    this.deps.log({ kind: 'signal', signal, action, inFlight: this.registry.count });
    switch (action) {
      case 'begin':
        void this.stop(`received ${signal}`);
        return;
      case 'ignore':
        return;
      case 'skipDrain':
        this.skipping = true;
        this.wake?.();
        return;
      case 'forceExit':
        this.deps.log({ kind: 'forced-exit', inFlight: this.registry.list() });
        this.deps.exit(1);
        return;
    }
  }

  /**
   * Starts the shutdown (once; later calls return the same promise). With
   * `linger`, the service first keeps serving while readiness is 503 (the
   * `delaying` state) until `linger.settled()` holds or `linger.maxMs` passed,
   * instead of the configured propagation delay: a hot handoff uses it to serve
   * requests that still arrive on connections accepted before the switch.
   */
  stop(reason: string, options: StopOptions = {}): Promise<void> {
    this.finished ??= this.run(reason, options.linger);
    return this.finished;
  }

  private async run(reason: string, linger: Linger | undefined): Promise<void> {
    const delayMs = linger ? linger.maxMs : this.options.delayMs;
    const delay = delayMs > 0;
    this.drainingSince = this.deps.now();
    this.deadline = this.drainingSince + delayMs + this.options.timeoutMs;
    this.apply({ type: 'stop', delay }, reason);
    if (delay) {
      const settled = await this.pause(delayMs, linger?.settled ?? (() => false), linger?.subscribe);
      this.deadline = this.deps.now() + this.options.timeoutMs;
      const why = linger ? (settled ? 'every connection closed' : 'linger time up') : 'propagation delay elapsed';
      this.apply({ type: 'delayElapsed' }, this.skipping ? 'delay skipped' : why);
    }
    const drained = await this.pause(this.deadline - this.deps.now(), () => this.registry.count === 0);
    if (!drained) this.logCutOffs(this.skipping ? 'skipped' : 'timeout');
    this.apply({ type: 'drained' }, drained ? 'in-flight work done' : this.skipping ? 'drain skipped' : 'drain timeout');
    for (const hook of this.hooks) await this.runHook(hook);
    this.apply({ type: 'cleanedUp' }, 'cleanup done');
    this.deps.exit(0);
  }

  /**
   * Waits up to `ms` for `done()` to hold (checked now, whenever in-flight work
   * reaches zero, and whenever `subscribe` calls back). Returns whether `done()`
   * held; a skip ends the wait early.
   */
  private pause(ms: number, done: () => boolean, subscribe?: Linger['subscribe']): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    if (this.skipping || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        this.deps.clearTimer(timer);
        unsubscribe();
        unsubscribeExtra?.();
        this.wake = null;
        resolve(result);
      };
      const timer = this.deps.setTimer(() => finish(done()), ms);
      const unsubscribe = this.registry.onIdle(() => done() && finish(true));
      const unsubscribeExtra = subscribe?.(() => done() && finish(true));
      this.wake = () => finish(done());
    });
  }

  private async runHook(hook: ShutdownHook): Promise<void> {
    const started = this.deps.now();
    const timeoutMs = hook.timeoutMs ?? this.options.hookTimeoutMs;
    let timer: unknown;
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = this.deps.setTimer(() => resolve('timed out'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([Promise.resolve().then(hook.run).then(() => 'ok' as const), timedOut]);
      this.deps.log({ kind: 'hook', name: hook.name, outcome, durationMs: this.deps.now() - started });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log({ kind: 'hook', name: hook.name, outcome: 'failed', durationMs: this.deps.now() - started, error: message });
    } finally {
      this.deps.clearTimer(timer);
    }
  }

  private logCutOffs(reason: 'timeout' | 'skipped'): void {
    const now = this.deps.now();
    for (const entry of this.registry.list()) {
      this.deps.log({ kind: 'cut-off', method: entry.method, route: entry.route, ageMs: now - entry.startedAt, reason });
    }
  }

  private apply(event: ShutdownEvent, reason: string): void {
    const previous = this.current;
    this.current = transition(previous, event);
    if (this.current === previous) return;
    this.deps.log({
      kind: 'phase',
      phase: phaseOf(this.current),
      state: this.current,
      reason,
      inFlight: this.registry.count,
      deadline: this.deadline === null ? null : new Date(this.deadline).toISOString(),
    });
    for (const listener of [...this.listeners]) listener(this.current, previous);
  }
}
