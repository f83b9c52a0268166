import { ChildWatch, type SuccessorPeer } from './child-watch';
import { transition, triggerVerdict, type HandoffEvent, type HandoffState } from './handoff-state';
import type { ListenerRegistry, PassableListeners } from './listener-registry';
import { basename } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { PreparedChild, ProcessEnvironment, SpawnedChild, SpawnRequest } from './process-environment';
import { launchRequest, type StartSnapshot } from './successor-launch';
import { describeExit, isGone, tryStat } from './proc-stat';
import { environmentProbe, findUtility, idleRequest, idleSupport } from './successor-idle';
import { continueOnParentDeath, type YieldGate } from './start-yield';
import { ownGroupNice } from './successor-priority';
import { SuccessorWork } from './successor-work';
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
  private prepared: PreparedChild | undefined;
  /** The kinds of handle the successor of the last upgrade listens for (its `onHandle`). */
  readonly successorWants = new Set<string>();
  /** The successor's channel after a handoff: client connections are handed over through it. */
  successor: SpawnedChild | undefined;
  /** After a handoff: resolves when the successor's process has exited. */
  successorExited: Promise<void> | undefined;
  /** After a handoff: the successor's work as it reports it while this process retires. */
  readonly successorWork: SuccessorWork;
  /** The app's listeners for its successors' messages, by kind (Upgrader.onSuccessorMessage). */
  readonly appListeners = new Map<string, (data: unknown, from: SuccessorPeer) => void>();

  constructor(
    private readonly env: ProcessEnvironment,
    private readonly options: ResolvedUpgraderOptions,
    private readonly start: StartSnapshot,
    private readonly registry: ListenerRegistry,
    /** Counts this process's work that a starting successor yields to (`startYield`). */
    private readonly gate: YieldGate,
  ) {
    this.successorWork = new SuccessorWork(env);
  }

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

  /**
   * Forks the next successor's process ahead (the `prepareSuccessor` option), for the
   * listeners registered so far or for `listeners` when given (a successor names the one
   * it is about to listen on: it forks before it serves). Replaces one prepared earlier.
   * Never throws: what fails is logged, and an upgrade then spawns directly.
   */
  prepare(listeners?: PassableListeners): void {
    if (!this.options.prepareSuccessor || this.env.prepare === undefined || triggerVerdict(this.state) === 'handed-over') return;
    this.discardPrepared();
    try {
      const { request } = this.successorRequest(listeners, false);
      const prepared = this.env.prepare(request);
      if (prepared.pid === undefined) return; // its error event follows; the next upgrade spawns
      this.prepared = prepared;
      this.options.log('info', `prepared the next successor's process ${prepared.pid}: an upgrade execs it`, { preparedPid: prepared.pid });
    } catch (error) {
      this.options.log('warn', `could not prepare a successor's process; an upgrade will spawn one (${(error as Error).message})`);
    }
  }

  /** Ends a prepared successor's process (it holds the listening sockets): before a listener closes, and at close. */
  discardPrepared(): void {
    this.prepared?.discard();
    this.prepared = undefined;
  }

  /** The pid of a prepared successor's process that still waits (`Upgrader.preparedPid`). */
  get preparedPid(): number | undefined {
    return this.prepared?.unusable === undefined ? this.prepared?.pid : undefined;
  }

  private async run(): Promise<UpgradeOutcome> {
    let built;
    try {
      built = this.successorRequest(undefined, true);
    } catch (error) {
      this.apply({ type: 'spawnFailed' });
      return { ok: false, reason: 'spawn-failed', message: `cannot start a successor: ${(error as Error).message}`, output: [], durationMs: 0 };
    }
    const { request, restoreNice, idleChrt, yields } = built;
    const prepared = this.takePrepared(request);
    this.successorWants.clear();
    this.watch = new ChildWatch(this.env, {
      ...this.options, stateProvider: this.stateProvider, onEvent: (event) => this.apply(event), onWork: (busy) => this.successorWork.report(busy),
      onWants: (kind) => this.successorWants.add(kind),
      onAppMessage: (kind, data, from) => {
        const listener = this.appListeners.get(kind);
        if (listener) listener(data, from);
        else this.options.log('warn', `ignored a ${kind} message from successor ${from.pid}: nothing here listens for it`);
      },
    });
    let outcome: UpgradeOutcome;
    try {
      // The kernel names a process by the file it exec'd, cut to 15 bytes.
      const yieldTo = yields ? { gate: this.gate, comm: basename(this.start.execPath).slice(0, 15) } : undefined;
      outcome = await this.watch.start(request, this.start.entry, restoreNice, idleChrt, prepared, yieldTo);
      this.successor = this.watch.handedOverTo;
      if (this.successor) {
        this.successorExited = this.watch.exitSeen;
        void this.successorExited.then(() => this.successorWork.end());
      }
    } finally {
      this.watch = undefined;
    }
    // A failed start leaves this process serving: the next upgrade gets a prepared process again.
    // Not after a cancel: the app is stopping (SIGTERM, close()).
    if (!outcome.ok && outcome.reason !== 'cancelled' && triggerVerdict(this.state) === 'start') this.prepare();
    return outcome;
  }

  /** The prepared process when it still waits and was prepared for exactly `request`; else it ends, and undefined. */
  private takePrepared(request: SpawnRequest): PreparedChild | undefined {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared === undefined) return undefined;
    const why = prepared.unusable ?? this.endedUnseen(prepared) ?? (isDeepStrictEqual(prepared.request, request) ? undefined : 'it was prepared for other listeners or settings');
    if (why === undefined) return prepared;
    prepared.discard();
    this.options.log('info', `the prepared successor ${prepared.pid} is not used (${why}); spawning one`);
    return undefined;
  }

  /**
   * How a prepared process ended whose exit this process has not seen yet: the signal that
   * starts the upgrade can be handled before the exit of a process killed just before it
   * (it is a zombie until then). Launched, it would fail the upgrade; it is not used.
   */
  private endedUnseen(prepared: PreparedChild): string | undefined {
    if (prepared.pid === undefined) return undefined;
    const stat = tryStat(this.env, prepared.pid);
    if (stat === null || !isGone(stat)) return undefined;
    return `it ${describeExit(stat) ?? 'ended'} before the upgrade`;
  }

  /**
   * The successor's spawn request, with how its priority is set. `logged`: say why a
   * priority mode cannot be used (once per upgrade, not again when preparing).
   */
  private successorRequest(listeners: PassableListeners | undefined, logged: boolean): { request: SpawnRequest; restoreNice?: number; idleChrt?: string; yields: boolean } {
    const log = logged ? this.options.log : () => undefined;
    let idleChrt: string | undefined;
    if (this.options.successorIdle) {
      const support = idleSupport(environmentProbe(this.env));
      if (support.ok) idleChrt = support.chrt;
      else log('warn', `the successor cannot start at SCHED_IDLE here (${support.reason}); it starts as successorNice says`);
    }
    // A successor at a lower priority until ready needs our group's value to come back to; without autogroups there is none.
    const restoreNice = idleChrt === undefined && this.options.successorNice > 0 ? ownGroupNice(this.env) : undefined;
    if (idleChrt === undefined && this.options.successorNice > 0 && restoreNice === undefined) {
      log('info', 'no scheduling groups to lower here (no /proc/self/autogroup): the successor starts as an equal of this process');
    }
    // A successor that may be stopped must be continued by the kernel should this process die meanwhile.
    const setpriv = this.options.startYield !== undefined ? findUtility('setpriv', environmentProbe(this.env)) : undefined;
    if (this.options.startYield !== undefined && setpriv === undefined) log('warn', 'the successor\'s start cannot yield to this process\'s work here: setpriv (util-linux) is neither on PATH nor in /usr/bin or /bin');
    const yields = setpriv !== undefined;
    let request = launchRequest(this.start, this.env.pid, this.registry, { restoreNice, idle: idleChrt !== undefined, yields, pidStart: this.ownStart(), fs: this.env, listeners });
    if (setpriv !== undefined) request = continueOnParentDeath(request, setpriv);
    if (idleChrt !== undefined) request = idleRequest(request, idleChrt);
    return { request, restoreNice, idleChrt, yields };
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
