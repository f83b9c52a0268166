import { ChildWatch } from './child-watch';
import { transition, triggerVerdict, type HandoffEvent, type HandoffState } from './handoff-state';
import type { ListenerRegistry } from './listener-registry';
import type { ProcessEnvironment, SpawnedChild } from './process-environment';
import { launchRequest, type StartSnapshot } from './successor-launch';
import { tryStat } from './proc-stat';
import { idleRequest, idleSupport } from './successor-idle';
import { ownGroupNice } from './successor-priority';
import type { ResolvedUpgraderOptions } from './upgrader-options';
import type { HandoffSnapshot, LastUpgrade, StateProvider, UpgradeFailure, UpgradeOutcome } from './upgrader.types';

/**
 * The predecessor's role: runs upgrades one at a time through the state machine,
 * each in a {@link ChildWatch}, and remembers the last outcome.
 */
export class UpgradeRunner {
  stateProvider: StateProvider | undefined;
  private state: HandoffState = 'idle';
  private attempts = 0;
  private watch: ChildWatch | undefined;
  private successorPid: number | undefined;
  private last: LastUpgrade | undefined;
  /** The successor's channel after a handoff: client connections are handed over through it. */
  successor: SpawnedChild | undefined;

  constructor(
    private readonly env: ProcessEnvironment,
    private readonly options: ResolvedUpgraderOptions,
    private readonly start: StartSnapshot,
    private readonly registry: ListenerRegistry,
  ) {}

  /** Why a trigger is refused now (`busy`, `handed-over`), or undefined when an upgrade may start. */
  refusal(): Pick<UpgradeFailure, 'reason' | 'message'> | undefined {
    switch (triggerVerdict(this.state)) {
      case 'start':
        return undefined;
      case 'busy':
        return { reason: 'busy', message: `an upgrade is already running (successor ${this.watch?.pid ?? 'starting'})` };
      case 'handed-over':
        return { reason: 'handed-over', message: `already handed over to ${this.successorPid}` };
    }
  }

  async upgrade(): Promise<UpgradeOutcome> {
    this.attempts += 1;
    this.apply({ type: 'trigger' });
    const outcome = await this.run();
    if (outcome.ok) this.successorPid = outcome.successorPid;
    const { output: _output, ...summary } = outcome as UpgradeFailure;
    this.last = { ...summary, at: new Date(this.env.now()).toISOString() };
    if (outcome.ok) this.options.log('info', 'handed over: stop accepting and drain', { ...outcome });
    else this.options.log('warn', `upgrade failed: ${outcome.message}`, { ...outcome });
    return outcome;
  }

  /** Kills a starting successor; resolves once it is gone (at once when none starts). */
  async cancel(reason: string): Promise<void> {
    await this.watch?.cancel(reason);
  }

  snapshot(): Pick<HandoffSnapshot, 'state' | 'attempts' | 'successorPid' | 'last'> {
    const successorPid = this.watch?.pid ?? this.successorPid;
    return {
      state: this.state,
      attempts: this.attempts,
      ...(successorPid === undefined ? {} : { successorPid }),
      ...(this.last ? { last: this.last } : {}),
    };
  }

  private async run(): Promise<UpgradeOutcome> {
    let request;
    let restoreNice: number | undefined;
    let idleChrt: string | undefined;
    try {
      if (this.options.successorIdle) {
        const support = idleSupport({ platform: this.env.platform, path: this.env.env['PATH'], readText: (file) => this.env.readText(file), isFile: (file) => 'path' in this.env.realpath(file) });
        if (support.ok) idleChrt = support.chrt;
        else this.options.log('warn', `the successor cannot start at SCHED_IDLE here (${support.reason}); it starts as successorNice says`);
      }
      // A successor at a lower priority until ready needs our group's value to come back to; without autogroups there is none.
      restoreNice = idleChrt === undefined && this.options.successorNice > 0 ? ownGroupNice(this.env) : undefined;
      if (idleChrt === undefined && this.options.successorNice > 0 && restoreNice === undefined) {
        this.options.log('info', 'no scheduling groups to lower here (no /proc/self/autogroup): the successor starts as an equal of this process');
      }
      request = launchRequest(this.start, this.env.pid, this.registry, { restoreNice, idle: idleChrt !== undefined, pidStart: this.ownStart(), fs: this.env });
      if (idleChrt !== undefined) request = idleRequest(request, idleChrt);
    } catch (error) {
      this.apply({ type: 'spawnFailed' });
      return { ok: false, reason: 'spawn-failed', message: `cannot start a successor: ${(error as Error).message}`, output: [], durationMs: 0 };
    }
    this.watch = new ChildWatch(this.env, { ...this.options, stateProvider: this.stateProvider, onEvent: (event) => this.apply(event) });
    try {
      const outcome = await this.watch.start(request, this.start.entry, restoreNice, idleChrt);
      this.successor = this.watch.handedOverTo;
      return outcome;
    } finally {
      this.watch = undefined;
    }
  }

  /** This process's start time, passed on so that a successor can tell it from a process that reuses its pid. */
  private ownStart(): number | undefined {
    return tryStat(this.env, this.env.pid)?.startTime;
  }

  private apply(event: HandoffEvent): void {
    const previous = this.state;
    this.state = transition(previous, event);
    if (this.state !== previous) this.options.log('info', `handoff ${previous} -> ${this.state}`, { event: event.type, successorPid: this.watch?.pid });
  }
}
