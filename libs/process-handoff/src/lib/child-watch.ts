import { serialize } from 'node:v8';
import { withDeadline } from './deadline';
import { isToPredecessor } from './handoff-messages';
import type { HandoffEvent } from './handoff-state';
import { OutputTail } from './output-tail';
import { raiseIdleSuccessor } from './successor-idle';
import { logStartYield, mainThreadTree, StartYield, type YieldGate } from './start-yield';
import { lowerSuccessor, raiseStarvedSuccessor } from './successor-priority';
import { explainSpawnError, missingPath } from './successor-launch';
import type { ChildHandlers, PreparedChild, ProcessEnvironment, SpawnedChild, SpawnRequest } from './process-environment';
import { reclaimPidFile } from './pid-file';
import { isGone, tryStat } from './proc-stat';
import { TreeKiller, type FrozenTree } from './tree-killer';
import { HANDOFF_TIMINGS, type ResolvedUpgraderOptions } from './upgrader-options';
import type { StateProvider, UpgradeFailure, UpgradeOutcome } from './upgrader.types';

/** The upgrader's options, the app's state provider, and where every state machine event of this run goes. */
export type ChildWatchOptions = ResolvedUpgraderOptions & {
  stateProvider: StateProvider | undefined;
  onEvent: (event: HandoffEvent) => void;
  /** After ready: the successor's reports of its work whose latency counts (`work`). */
  onWork?: (busy: boolean) => void;
  /** The successor takes handles of `kind` (it listens for them). */
  onWants?: (kind: string) => void;
  /** A message of the successor's app (`message`), with the means to answer that successor. */
  onAppMessage?: (kind: string, data: unknown, from: SuccessorPeer) => void;
};

/** A starting (or serving) successor as an app's conversation with it sees it. */
export interface SuccessorPeer {
  readonly pid: number;
  /** Sends a message of the app's own under `kind` (the successor's `onPredecessorMessage`); rejects once the channel is gone. */
  send(kind: string, data: unknown): Promise<void>;
  /** Resolves once the successor's process has exited (a failed start's too). */
  readonly exited: Promise<void>;
}

const { treeSampleMs, killWaitMs } = HANDOFF_TIMINGS;
const NO_OUTPUT = 'no output captured before exit; its own output went to the same stdout/stderr as this process';

type Failure = Pick<UpgradeFailure, 'reason' | 'message'>;

/**
 * The predecessor's side of one upgrade: starts the successor, sends it the
 * state after its hello, keeps the tail of its output, and settles exactly once:
 * ready, or exited / timed out / channel closed / cancelled (then the successor
 * is stopped with its tree, the service taken back, the tree killed, and the
 * outcome resolves once every process killed is gone).
 */
export class ChildWatch {
  private child: SpawnedChild | undefined;
  private readonly tail: OutputTail;
  private readonly tree: TreeKiller;
  private readonly stops: (() => void)[] = [];
  private startedAt = 0;
  private request: SpawnRequest | undefined;
  private entry: string | undefined;
  private greeted = false;
  private successorPeer: SuccessorPeer | undefined;
  private settled = false;
  private succeeded = false;
  private exit: UpgradeFailure['exit'];
  private markExited!: () => void;
  private readonly exited = new Promise<void>((resolve) => (this.markExited = resolve));
  private resolve!: (outcome: UpgradeOutcome) => void;
  private readonly done = new Promise<UpgradeOutcome>((resolve) => (this.resolve = resolve));

  constructor(
    private readonly env: ProcessEnvironment,
    private readonly options: ChildWatchOptions,
  ) {
    this.tail = new OutputTail(options.outputLines);
    this.tree = new TreeKiller(env);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the successor's exit event fired (after a handoff too). */
  get exitSeen(): Promise<void> {
    return this.exited;
  }

  /** The channel to the successor once it said ready (connections are handed over through it), else undefined. */
  get handedOverTo(): SpawnedChild | undefined {
    return this.succeeded ? this.child : undefined;
  }

  /**
   * Spawns the successor (`entry`: the entry file among its arguments); resolves with the
   * outcome of the whole upgrade. `restoreNice`: the group value a lowered successor goes
   * back to (set only when it is lowered), for the starvation escape; `idleChrt`: the
   * successor starts at SCHED_IDLE (successor-idle.ts), set back by the same escape.
   * `prepared`: its process, forked ahead for this request, is launched instead of a spawn.
   * `yieldTo`: the successor's tree is stopped while the gate is held, until ready, once the
   * successor runs `comm` (it exec'd past `setpriv`, which set its parent-death signal; start-yield.ts);
   * while the gate is held when this is called, the successor begins once it is free, at most
   * `startYield.maxStopMs` later.
   */
  start(request: SpawnRequest, entry?: string, restoreNice?: number, idleChrt?: string, prepared?: PreparedChild, yieldTo?: { gate: YieldGate; comm: string }): Promise<UpgradeOutcome> {
    this.startedAt = this.env.now();
    this.request = request;
    this.entry = entry;
    const maxWaitMs = this.options.startYield?.maxStopMs ?? 0;
    if (yieldTo === undefined || !yieldTo.gate.held || maxWaitMs <= 0) {
      this.launch(request, restoreNice, idleChrt, prepared, yieldTo);
      return this.done;
    }
    // Work is in flight (a render): the successor's exec and its first milliseconds, before it
    // runs node, cannot be stopped, so it begins once that work ended, within one stop's bound.
    let go: (() => void) | undefined;
    const timer = this.env.setTimer(() => go?.(), maxWaitMs);
    const unsubscribe = yieldTo.gate.subscribe((held) => !held && go?.());
    go = () => {
      go = undefined;
      this.env.clearTimer(timer);
      unsubscribe();
      if (this.settled) {
        prepared?.discard(); // cancelled meanwhile: the process forked ahead holds the listening sockets
        return;
      }
      this.options.log('info', `the successor starts after this process's work in flight (waited ${Math.round(this.env.now() - this.startedAt)} ms)`);
      this.launch(request, restoreNice, idleChrt, prepared, yieldTo);
    };
    this.stops.push(() => go?.());
    return this.done;
  }

  private launch(request: SpawnRequest, restoreNice?: number, idleChrt?: string, prepared?: PreparedChild, yieldTo?: { gate: YieldGate; comm: string }): void {
    const handlers: ChildHandlers = {
      message: (message) => this.onMessage(message),
      exit: (code, signal) => this.onExit(code, signal),
      spawnError: (error) => this.spawnFailed(error),
      disconnect: () => this.onChannelClosed(),
    };
    try {
      this.child = prepared ? prepared.launch(handlers) : this.env.spawn(request, handlers);
    } catch (error) {
      this.spawnFailed(error as Error);
    }
    const pid = this.child?.pid;
    if (pid === undefined) return; // spawn failed, or spawnError follows
    const { readyTimeoutMs } = this.options;
    this.options.log('info', 'successor started', { successorPid: pid, timeoutMs: readyTimeoutMs, ...(prepared ? { prepared: true } : {}) });
    const timer = this.env.setTimer(() => this.fail({ reason: 'timeout', message: `successor ${pid} was not ready within ${readyTimeoutMs} ms` }), readyTimeoutMs);
    this.stops.push(() => this.env.clearTimer(timer), this.tree.follow(pid, treeSampleMs));
    if (yieldTo !== undefined) {
      // The successor first, so that it forks nothing more; then what it started: as its main
      // threads show it now (a browser just spawned), and as the full walk last recorded it.
      // Not before it exec'd node: stopped inside setpriv, it would have no parent-death signal yet.
      const members = () => {
        if (tryStat(this.env, pid)?.comm !== yieldTo.comm) return [];
        const seen = mainThreadTree(this.env, pid);
        return [...seen, ...this.tree.stillRunning(new Set(seen))];
      };
      const yielding = new StartYield(this.env, yieldTo.gate, members, this.options.startYield);
      this.stops.push(() => logStartYield(this.options.log, pid, yielding.end()));
    }
    if (request.detached) void lowerSuccessor(this.env, pid, this.options.successorNice, this.options.log);
    const { successorEscapeMs, log } = this.options;
    if (idleChrt !== undefined) log('info', `successor ${pid} starts at SCHED_IDLE in this process's scheduling group until it listens`);
    if (idleChrt !== undefined && successorEscapeMs > 0) {
      const escape = this.env.setTimer(() => void raiseIdleSuccessor(pid, idleChrt, successorEscapeMs, log), successorEscapeMs);
      this.stops.push(() => this.env.clearTimer(escape));
    }
    if (restoreNice !== undefined && successorEscapeMs > 0) {
      const escape = this.env.setTimer(() => void raiseStarvedSuccessor(this.env, pid, restoreNice, successorEscapeMs, log), successorEscapeMs);
      this.stops.push(() => this.env.clearTimer(escape));
    }
  }

  /** Kills a starting successor with its tree; resolves when it is gone (at once when there is none). */
  async cancel(reason: string): Promise<void> {
    this.fail({ reason: 'cancelled', message: `upgrade cancelled (${reason})` });
    await this.done;
  }

  private onMessage(message: unknown): void {
    if (!isToPredecessor(message)) {
      this.options.log('warn', 'ignored a message from the successor that is not part of the handoff protocol');
      return;
    }
    switch (message.type) {
      case 'hello':
        if (this.greeted || this.settled) return;
        this.greeted = true;
        this.options.onEvent({ type: 'hello' });
        void this.sendState();
        return;
      case 'output':
        return this.tail.write(message.stream, message.text);
      case 'fatal':
        return this.tail.fatal(message.text);
      case 'ready':
        return this.succeed();
      case 'work':
        if (this.succeeded) this.options.onWork?.(message.busy);
        return;
      case 'wants':
        this.options.onWants?.(message.kind);
        return;
      case 'message':
        this.options.onAppMessage?.(message.kind, message.data, this.peer());
        return;
    }
  }

  /** The successor to its app's conversation: one object for all its messages. */
  private peer(): SuccessorPeer {
    const child = this.child as SpawnedChild;
    this.successorPeer ??= { pid: this.pid as number, send: (kind, data) => child.send({ type: 'message', kind, data }), exited: this.exited };
    return this.successorPeer;
  }

  private async sendState(): Promise<void> {
    try {
      const data = await this.options.stateProvider?.();
      const bytes = data === undefined ? 0 : serialize(data).length;
      if (bytes > this.options.maxStateBytes) {
        throw new Error(`the state is ${bytes} bytes, over maxStateBytes (${this.options.maxStateBytes}); make it smaller or raise the limit`);
      }
      await this.child?.send({ type: 'state', data });
      return;
    } catch (error) {
      this.options.log('warn', 'could not hand the state to the successor; it starts without it', { error: (error as Error).message });
    }
    // The successor waits for a state message: tell it there is none rather than let it wait out its timeout.
    await this.child?.send({ type: 'state', data: undefined }).catch((error: Error) => this.options.log('warn', 'successor channel closed', { error: error.message }));
  }

  private succeed(): void {
    if (this.settled) return; // too late: it is being killed already
    const pid = this.pid as number;
    const stat = tryStat(this.env, pid);
    if (stat !== null && isGone(stat)) { // unreadable (our fd limit) is not gone: hand over
      // Its ready was still in the channel when it died: handing over now would leave nobody serving.
      this.options.log('warn', `successor ${pid} said ready but is gone already; not handing over`);
      return; // its exit event follows and fails the upgrade
    }
    this.settle();
    this.succeeded = true;
    // The channel stays open to hand connections over, but neither it nor the child
    // handle may keep this process alive while it drains.
    this.child?.unref();
    this.options.onEvent({ type: 'ready' });
    this.resolve({ ok: true, successorPid: this.pid as number, durationMs: this.env.now() - this.startedAt });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exit = { code, signal };
    this.markExited();
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    // Gone before its hello: node could not even load it. Name a missing path if there is one.
    const missing = !this.greeted && this.request ? missingPath(this.env, this.request.command, this.request.cwd, this.entry ?? this.request.cwd) : undefined;
    const note = (missing ? `; ${missing}` : '') + (this.tail.isEmpty ? `; ${NO_OUTPUT}` : '');
    this.fail({ reason: 'exited', message: `successor ${this.pid} ${how} before it was ready${note}` });
  }

  /** A successor that closes its channel while it runs can never say ready: fail now, not at the timeout. */
  private onChannelClosed(): void {
    const pid = this.pid;
    if (this.settled || this.exit || pid === undefined) return;
    const stat = tryStat(this.env, pid);
    if (stat !== null && isGone(stat)) return; // it is exiting: its exit event reports it
    this.fail({ reason: 'channel-closed', message: `successor ${pid} closed the handoff channel before it was ready; it can no longer say ready` });
  }

  private spawnFailed(error: Error): void {
    if (this.settled) return;
    this.settle();
    this.options.onEvent({ type: 'spawnFailed' });
    const why = this.request ? explainSpawnError(this.env, this.request, error, this.entry) : error.message;
    this.resolve({ ok: false, reason: 'spawn-failed', message: `cannot start the successor: ${why}`, output: [], durationMs: this.env.now() - this.startedAt });
  }

  private fail(failure: Failure): void {
    if (this.settled) return;
    this.settle();
    this.options.onEvent({ type: 'failed' });
    void this.killAndReport(failure);
  }

  private settle(): void {
    this.settled = true;
    this.stops.splice(0).forEach((stop) => stop());
  }

  private async killAndReport(failure: Failure): Promise<void> {
    const { pid } = this;
    const started = this.env.now();
    let frozen: FrozenTree | undefined;
    try {
      // Once its exit was seen its pid may belong to someone else: then only what it left behind.
      frozen = this.tree.freeze(this.exit ? undefined : pid);
    } catch (error) {
      this.options.log('error', 'could not stop the successor with its process tree', { successorPid: pid, error: (error as Error).message });
    }
    // Frozen, it can claim nothing more; what it may have claimed already (it wrote
    // the pid file and sent MAINPID just before saying ready, too late) is taken back
    // before it dies, so that the service manager never sees its main process die.
    if (pid !== undefined) await this.reclaim(pid);
    if (frozen) {
      try {
        const killed = this.tree.killFrozen(frozen);
        this.options.log('warn', 'upgrade failed; killed the successor with its process tree', { ...failure, successorPid: pid, killed });
      } catch (error) {
        this.options.log('error', 'could not kill the successor with its process tree', { successorPid: pid, error: (error as Error).message });
      }
    }
    if (pid !== undefined && !this.exit) {
      const gone = await withDeadline(this.env, this.exited.then(() => true), killWaitMs, () => false);
      if (!gone) this.options.log('error', `successor ${pid} did not exit within ${killWaitMs} ms of SIGKILL`);
    }
    // Resolve only once every process killed is gone: a caller that then counts
    // processes, or reuses a profile directory, must not find one still dying.
    const survivors = frozen ? await this.tree.waitGone(frozen, Math.max(0, killWaitMs - (this.env.now() - started))) : [];
    if (survivors.length > 0) this.options.log('error', `processes of the killed successor still run ${killWaitMs} ms after SIGKILL`, { successorPid: pid, survivors });
    this.child?.disconnect();
    this.options.onEvent({ type: 'killed' });
    const { exit } = this;
    this.resolve({ ok: false, ...failure, successorPid: pid, exit, output: this.tail.lines(), durationMs: this.env.now() - this.startedAt });
  }

  /** Takes the service back from a frozen successor (pid file, and the app's own `reclaim`), bounded. */
  private async reclaim(successorPid: number): Promise<void> {
    const { pidFile, reclaim } = this.options;
    try {
      if (pidFile !== undefined) reclaimPidFile(this.env, pidFile, this.env.pid, successorPid);
      if (reclaim) await withDeadline(this.env, Promise.resolve(reclaim(successorPid)), killWaitMs, () => this.options.log('error', `reclaim did not finish within ${killWaitMs} ms`));
    } catch (error) {
      this.options.log('error', 'could not take the service back from the failed successor', { successorPid, error: (error as Error).message });
    }
  }
}
