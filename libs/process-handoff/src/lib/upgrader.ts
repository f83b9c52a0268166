import type { AddressInfo, Server } from 'node:net';
import { ChildWatch } from './child-watch';
import { transition, triggerVerdict, type HandoffEvent, type HandoffState } from './handoff-state';
import { takeInheritance, type Inheritance } from './inheritance';
import { ListenerRegistry, listenOn, type ListenTarget } from './listener-registry';
import { nodeProcessEnvironment } from './node-process-environment';
import { ParentLink } from './parent-link';
import { writePidFile } from './pid-file';
import type { ProcessEnvironment } from './process-environment';
import { captureStart, launchRequest, unsupportedBecause, type StartSnapshot } from './successor-launch';
import { resolveUpgraderOptions, type ResolvedUpgraderOptions, type UpgraderOptions } from './upgrader-options';
import type { HandoffSnapshot, HandoffUpgrader, LastUpgrade, StateProvider, UpgradeFailure, UpgradeOutcome } from './upgrader.types';

/**
 * Zero-downtime upgrades of a Node process, the counterpart of cloudflare/tableflip.
 *
 * The process listens through the upgrader. `upgrade()` starts a successor (same
 * node, execArgv, entry path, arguments, cwd and start-up environment; so a new
 * build at that path is what runs) that inherits the listening sockets; both
 * accept on the same kernel socket until the successor says `ready()`. Then the
 * outcome is `ok` and the app stops accepting and drains; the upgrader never
 * closes listeners and never exits the process. A successor that exits or is not
 * ready in time is killed with its process tree, and this process serves on.
 *
 * @example
 * const upgrader = Upgrader.create({ readyTimeoutMs: 60_000, pidFile: 'run/api.pid' });
 * await upgrader.listen('http', server, { port: 8000, host: '127.0.0.1' });
 * cache.load(await upgrader.inheritedState(5_000));
 * upgrader.provideState(() => cache.dump());
 * await upgrader.ready();
 * process.on('SIGHUP', async () => {
 *   const outcome = await upgrader.upgrade();
 *   if (outcome.ok) await drainAndExit();
 *   else log.warn(outcome.message, outcome.output);
 * });
 */
export class Upgrader implements HandoffUpgrader {
  readonly isSuccessor: boolean;
  readonly predecessorPid: number | undefined;
  private readonly registry = new ListenerRegistry();
  private state: HandoffState = 'idle';
  private attempts = 0;
  private watch: ChildWatch | undefined;
  private successorPid: number | undefined;
  private last: LastUpgrade | undefined;
  private stateProvider: StateProvider | undefined;
  private readying: Promise<void> | undefined;

  /**
   * Reads (and deletes from the environment) what a predecessor passed, snapshots
   * the environment for a later successor, and greets the predecessor. Call it
   * once per process, first thing, before the app changes `process.env`.
   *
   * @throws on a bad option, or a malformed handoff variable from the predecessor.
   */
  static create(options: UpgraderOptions = {}): Upgrader {
    const env = options.environment ?? nodeProcessEnvironment();
    const resolved = resolveUpgraderOptions(options);
    const start = captureStart(env);
    const inheritance = takeInheritance(env.env, env.ppid, (pid) => env.readStat(pid) !== undefined);
    const channel = inheritance ? env.parentChannel() : undefined;
    return new Upgrader(env, resolved, start, inheritance, channel ? new ParentLink(channel, env, resolved.log) : undefined);
  }

  private constructor(
    private readonly env: ProcessEnvironment,
    private readonly options: ResolvedUpgraderOptions,
    private readonly start: StartSnapshot,
    private readonly inheritance: Inheritance | undefined,
    private readonly link: ParentLink | undefined,
  ) {
    this.isSuccessor = inheritance !== undefined;
    this.predecessorPid = inheritance?.parent;
    link?.start();
    if (inheritance) options.log('info', 'started as a successor', { predecessorPid: inheritance.parent, listeners: inheritance.listeners });
  }

  /**
   * Listens on the socket inherited under `name` when there is one, else on
   * `target`, and registers the server so a later upgrade passes it on.
   * Resolves with the address once listening.
   */
  async listen(name: string, server: Server, target: ListenTarget): Promise<AddressInfo> {
    if (this.registry.has(name)) throw new Error(`a listener named '${name}' is already registered; give each listener its own name`);
    const fd = this.inheritance?.listeners[name];
    const address = await listenOn(server, fd === undefined ? target : { fd });
    this.registry.add(name, server);
    this.options.log('info', `listening as '${name}'`, { port: address.port, address: address.address, inherited: fd !== undefined });
    return address;
  }

  /** Registers what a successor inherits: called once per upgrade, after the successor greeted us. */
  provideState(provider: StateProvider): void {
    this.stateProvider = provider;
  }

  /** The predecessor's state; undefined without a predecessor, or when none arrives within `timeoutMs`. */
  inheritedState(timeoutMs: number): Promise<unknown> {
    return this.link ? this.link.inheritedState(timeoutMs) : Promise.resolve(undefined);
  }

  /**
   * Starts a successor and waits until it is ready or has failed. Never throws
   * for an expected failure: the outcome says what happened. One at a time: a
   * call during an upgrade resolves `busy` at once, after a handoff `handed-over`.
   */
  async upgrade(): Promise<UpgradeOutcome> {
    const verdict = triggerVerdict(this.state);
    if (verdict !== 'start') {
      const message = verdict === 'busy' ? `an upgrade is already running (successor ${this.watch?.pid ?? 'starting'})` : `already handed over to ${this.successorPid}`;
      this.options.log('warn', `upgrade refused: ${message}`, { reason: verdict });
      return { ok: false, reason: verdict, message, output: [], durationMs: 0 };
    }
    this.attempts += 1;
    this.apply({ type: 'trigger' });
    const outcome = await this.runUpgrade();
    if (outcome.ok) this.successorPid = outcome.successorPid;
    const { output: _output, ...summary } = outcome as UpgradeFailure;
    this.last = { ...summary, at: new Date(this.env.now()).toISOString() };
    if (outcome.ok) this.options.log('info', 'handed over: stop accepting and drain', { ...outcome });
    else this.options.log('warn', `upgrade failed: ${outcome.message}`, { ...outcome });
    return outcome;
  }

  /**
   * This process serves: writes the pid file (atomically) and, in a successor,
   * tells the predecessor, then lets go of the channel. Idempotent.
   * @throws when the pid file cannot be written (the predecessor is then not told).
   */
  ready(): Promise<void> {
    this.readying ??= (async () => {
      if (this.options.pidFile !== undefined) writePidFile(this.env, this.options.pidFile, this.env.pid);
      await this.link?.ready();
      this.options.log('info', 'ready', { pid: this.env.pid, pidFile: this.options.pidFile });
    })().catch((error: unknown) => {
      this.readying = undefined;
      throw error;
    });
    return this.readying;
  }

  /** Kills a starting successor with its tree (the running `upgrade()` resolves `cancelled`); resolves when it is gone. */
  async cancel(reason: string): Promise<void> {
    if (this.watch) await this.watch.cancel(reason);
  }

  /** What the health body may show: support, state, attempts, pids, the last outcome. */
  snapshot(): HandoffSnapshot {
    const successorPid = this.watch?.pid ?? this.successorPid;
    return {
      supported: unsupportedBecause(this.start) === undefined,
      state: this.state,
      attempts: this.attempts,
      ...(successorPid === undefined ? {} : { successorPid }),
      ...(this.predecessorPid === undefined ? {} : { predecessorPid: this.predecessorPid }),
      ...(this.last ? { last: this.last } : {}),
    };
  }

  /** Stops listening to the predecessor and kills a starting successor; clears every timer and listener. */
  close(): void {
    this.link?.close();
    void this.watch?.cancel('upgrader closed');
  }

  private async runUpgrade(): Promise<UpgradeOutcome> {
    let request;
    try {
      request = launchRequest(this.start, this.env.pid, this.registry);
    } catch (error) {
      this.apply({ type: 'spawnFailed' });
      return { ok: false, reason: 'spawn-failed', message: `cannot start a successor: ${(error as Error).message}`, output: [], durationMs: 0 };
    }
    this.watch = new ChildWatch(this.env, { ...this.options, stateProvider: this.stateProvider, onEvent: (event) => this.apply(event) });
    try {
      return await this.watch.start(request);
    } finally {
      this.watch = undefined;
    }
  }

  private apply(event: HandoffEvent): void {
    const previous = this.state;
    this.state = transition(previous, event);
    if (this.state !== previous) this.options.log('info', `handoff ${previous} -> ${this.state}`, { event: event.type, successorPid: this.watch?.pid });
  }
}
