import type { AddressInfo, Server, Socket } from 'node:net';
import type { HandOverResult } from './lib/connection-handover';
import type { HandoffState } from './lib/handoff-state';
import { listenOn, type ListenTarget } from './lib/listener-registry';
import { YieldGate } from './lib/start-yield';
import type { HandoffSnapshot, HandoffUpgrader, RetireIdleResult, StateProvider, UpgradeOutcome } from './lib/upgrader.types';

/**
 * A stand-in for the upgrader, for code that only needs its surface (the API's
 * wiring, the health body). It listens for real on the given target, never
 * forks, and answers `upgrade()` from a script of outcomes; every call is recorded.
 *
 * @example
 * const upgrader = new StubUpgrader({ outcomes: [{ ok: false, reason: 'timeout', message: 'slow', output: ['booting'], durationMs: 5 }] });
 * await wiring.onSighup(upgrader);
 * expect(upgrader.calls).toContain('upgrade');
 */
export class StubUpgrader implements HandoffUpgrader {
  readonly isSuccessor: boolean;
  readonly predecessorPid: number | undefined;
  /** Every call by method name, in order. */
  readonly calls: string[] = [];
  /** Registered listeners by name. */
  readonly listeners = new Map<string, Server>();
  /** The provider passed to `provideState`, to call it as a successor's hello would. */
  stateProvider: StateProvider | undefined;
  private readonly outcomes: UpgradeOutcome[];
  private readonly state: unknown;
  private current: HandoffState = 'idle';
  private attempts = 0;

  constructor(
    options: { isSuccessor?: boolean; predecessorPid?: number; inheritedState?: unknown; outcomes?: UpgradeOutcome[] } = {},
  ) {
    this.isSuccessor = options.isSuccessor ?? false;
    this.predecessorPid = options.predecessorPid;
    this.state = options.inheritedState;
    this.outcomes = [...(options.outcomes ?? [])];
  }

  async listen(name: string, server: Server, target: ListenTarget): Promise<AddressInfo> {
    this.calls.push('listen');
    const address = await listenOn(server, target);
    this.listeners.set(name, server);
    return address;
  }

  provideState(provider: StateProvider): void {
    this.calls.push('provideState');
    this.stateProvider = provider;
  }

  async inheritedState(_timeoutMs: number): Promise<unknown> {
    this.calls.push('inheritedState');
    return this.state;
  }

  /** The next scripted outcome; without one, a handoff to pid 999999. */
  async upgrade(): Promise<UpgradeOutcome> {
    this.calls.push('upgrade');
    if (this.current === 'handed-over') return { ok: false, reason: 'handed-over', message: 'already handed over', output: [], durationMs: 0 };
    this.attempts += 1;
    const outcome = this.outcomes.shift() ?? { ok: true, successorPid: 999_999, durationMs: 1 };
    if (outcome.ok) this.current = 'handed-over';
    return outcome;
  }

  async ready(): Promise<void> {
    this.calls.push('ready');
  }

  async cancel(_reason: string): Promise<void> {
    this.calls.push('cancel');
  }

  /** No successor to move connections to: they stay with the caller. */
  async handOver(name: string, _socket: Socket): Promise<HandOverResult> {
    this.calls.push(`handOver ${name}`);
    return 'unavailable';
  }

  /** Resolves at once: the stub has no predecessor process to wait for. */
  async predecessorGone(): Promise<void> {
    this.calls.push('predecessorGone');
  }

  /** Changes no process: after a handoff it answers as if its one process had gone to SCHED_IDLE. */
  async retireIdle(): Promise<RetireIdleResult> {
    this.calls.push('retireIdle');
    if (this.current !== 'handed-over') return { ok: false, reason: 'no handoff has happened: this process still serves' };
    return { ok: true, processes: 1, failures: [] };
  }

  /** Offers nothing: the stub has no successor to stop its processes. */
  retiring(): number {
    this.calls.push('retiring');
    return 0;
  }

  /** Waits for nothing: the stub has no successor whose work it could hear of. */
  async untilSuccessorIdle(): Promise<number> {
    this.calls.push('untilSuccessorIdle');
    return 0;
  }

  private readonly gate = new YieldGate();

  /** Whether work is held through `yieldStart()`; the stub starts no successor to stop. */
  get held(): boolean {
    return this.gate.held;
  }

  yieldStart(): () => void {
    this.calls.push('yieldStart');
    return this.gate.hold();
  }

  snapshot(): HandoffSnapshot {
    return { supported: true, state: this.current, attempts: this.attempts };
  }

  close(): void {
    this.calls.push('close');
  }
}
