import type { HandoffAttempt, HandoffFacts } from '@edu-agents/health-client';

/** How a simulated hot handoff goes. Times are on the fake clock, from the trigger. */
export interface FakeHandoffScript {
  /** HANDOFF_ENABLED (default true); false: /health says unsupported and a trigger does nothing. */
  enabled?: boolean;
  /** `ready` (default): takes over after `bootMs`; `exits`: dies after `bootMs / 2`; `never-ready`: killed at `timeoutMs`. */
  successor?: 'ready' | 'exits' | 'never-ready';
  bootMs?: number;
  /** The API's HANDOFF_TIMEOUT_MS. */
  timeoutMs?: number;
  /** How long the old process serves its open connections after the switch. */
  drainMs?: number;
  /** The old process never exits after the switch. */
  neverExits?: boolean;
  /** The failed successor's last lines of output. */
  output?: string[];
  /** The pid file / MainPID keeps naming the old pid after the switch. */
  pidFileStays?: boolean;
}

/**
 * The API's handoff as its /health shows it, on a fake clock: a trigger starts a
 * successor (pid + 1) that takes over, exits, or is never ready and gets killed.
 * The owner asks `tick()` whether the successor took over and then serves as it.
 */
export class FakeHandoff {
  attempts = 0;
  predecessorPid: number | undefined;
  private last: HandoffAttempt | undefined;
  private running: { successorPid: number; since: number } | undefined;
  private draining: { pid: number; until: number } | undefined;

  constructor(
    private readonly script: FakeHandoffScript,
    private readonly clock: { t: number },
  ) {}

  get enabled(): boolean {
    return this.script.enabled ?? true;
  }

  /** SIGHUP to `pid`: starts a successor unless disabled or one runs. */
  trigger(pid: number): void {
    if (!this.enabled || this.running) return;
    this.attempts += 1;
    this.running = { successorPid: pid + 1, since: this.clock.t };
  }

  /** Advances the attempt; returns the successor's pid once it took over from `pid`. */
  tick(pid: number): number | undefined {
    if (!this.running) return undefined;
    const s = this.script;
    const elapsed = this.clock.t - this.running.since;
    const successorPid = this.running.successorPid;
    const bootMs = s.bootMs ?? 200;
    const fail = (reason: string, message: string, exit?: HandoffAttempt['exit']) => {
      this.last = { ok: false, reason, message, successorPid, exit, durationMs: elapsed, at: `t=${this.clock.t}`, output: s.output ?? [] };
      this.running = undefined;
      return undefined;
    };
    switch (s.successor ?? 'ready') {
      case 'ready':
        if (elapsed < bootMs) return undefined;
        // The new process: its own counters, its predecessor draining.
        this.running = undefined;
        this.attempts = 0;
        this.last = undefined;
        this.predecessorPid = pid;
        this.draining = { pid, until: s.neverExits ? Infinity : this.clock.t + (s.drainMs ?? 300) };
        return successorPid;
      case 'exits':
        return elapsed < bootMs / 2 ? undefined : fail('exited', `successor ${successorPid} exited with code 1 before it was ready`, { code: 1, signal: null });
      case 'never-ready':
        return elapsed < (s.timeoutMs ?? 60_000) ? undefined : fail('timeout', `successor ${successorPid} was not ready within ${s.timeoutMs ?? 60_000} ms`, { code: null, signal: 'SIGKILL' });
    }
  }

  /** Whether `pid` is the starting successor or the predecessor still draining. */
  isAlive(pid: number): boolean {
    return pid === this.running?.successorPid || (pid === this.draining?.pid && this.clock.t < this.draining.until);
  }

  /** `details.handoff` of the serving process. */
  facts(): HandoffFacts {
    return {
      supported: this.enabled, enabled: this.enabled, state: this.running ? 'starting' : 'idle', attempts: this.attempts,
      successorPid: this.running?.successorPid, predecessorPid: this.predecessorPid, last: this.last,
    };
  }

  /** Whether the pid file still names the old pid after a switch. */
  get pidFileStays(): boolean {
    return this.script.pidFileStays ?? false;
  }
}
