import { Socket, type AddressInfo, type Server, type SocketConstructorOpts } from 'node:net';
import { handOverConnection, type HandOverResult } from './connection-handover';
import { takeInheritance, type Inheritance } from './inheritance';
import { ListenerRegistry, listenOn, type ListenTarget } from './listener-registry';
import { nodeProcessEnvironment } from './node-process-environment';
import { ParentLink } from './parent-link';
import { enterIdle, environmentProbe, findChrt, idleSupport, leaveIdleSelf, raiseRetiringPredecessor, SCHED_IDLE } from './successor-idle';
import { restoreOwnGroup } from './successor-priority';
import { writePidFile } from './pid-file';
import type { ProcessEnvironment } from './process-environment';
import { captureStart, unsupportedBecause, type StartSnapshot } from './successor-launch';
import { describeExit, isGone, tryStat, type ProcStat } from './proc-stat';
import { UpgradeRunner } from './upgrade-runner';
import type { SuccessorPeer } from './child-watch';
import { PeerYield } from './peer-yield';
import { continueStoppedTree, logStartYield, retirementTargets, START_YIELD_BOUNDS, StartYield, YieldGate } from './start-yield';
import { HANDOFF_TIMINGS, resolveUpgraderOptions, type ResolvedUpgraderOptions, type UpgraderOptions } from './upgrader-options';
import type { HandoffSnapshot, HandoffUpgrader, RetireIdleResult, StateProvider, UpgradeOutcome } from './upgrader.types';

/**
 * Zero-downtime upgrades of a Node process, the counterpart of cloudflare/tableflip.
 * The process listens through the upgrader; `upgrade()` starts a successor (same
 * node, execArgv, entry path, arguments, cwd, start-up environment) that inherits
 * the listening sockets, and both accept on them until the successor says
 * `ready()`. On `ok` the app stops accepting and drains: the upgrader never closes
 * listeners and never exits the process. A successor that exits or is not ready in
 * time is killed with its process tree, and this process serves on.
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
 *   else log.warn(outcome.message, { output: outcome.output });
 * });
 */
export class Upgrader implements HandoffUpgrader {
  readonly isSuccessor: boolean;
  readonly predecessorPid: number | undefined;
  private readonly runner: UpgradeRunner;
  /** Children whose trees are the successor's now ({@link passOn}). */
  private readonly passedOn = new Set<number>();
  private readonly handleListeners = new Map<string, (data: unknown, handle: unknown) => void>();
  private readonly predecessorStart: number | undefined;
  private readying: Promise<void> | undefined;
  private restoring: Promise<void> | undefined;
  private gone: Promise<void> | undefined;
  /** When the predecessor was first seen at SCHED_IDLE (it retires so), and whether it was raised since. */
  private predecessorIdleSince: number | undefined;
  private raisingPredecessor: Promise<void> | undefined;
  /** What this process's yields follow: its own work (`yieldStart()`), and with `yieldDir` the other instances' too. */
  private readonly gate = new YieldGate();
  /** This process's own work alone (with `yieldDir`; else the gate itself): what it announces to the other instances. */
  private readonly ownWork: YieldGate;
  private readonly peers: PeerYield | undefined;
  /** In a successor: the retiring predecessor's processes it offered, stopped during this process's work (`retireYield`). */
  private retirement: { yielding: StartYield | undefined; targets: number[]; stopReporting: () => void } | undefined;

  /**
   * Reads (and deletes from the environment) what a predecessor passed, snapshots
   * the environment for a later successor, and greets the predecessor. Call it
   * once per process, first thing, before the app changes `process.env`.
   * @throws on a bad option, or a malformed handoff variable from the predecessor.
   */
  static create(options: UpgraderOptions = {}): Upgrader {
    const env = options.environment ?? nodeProcessEnvironment();
    const resolved = resolveUpgraderOptions(options);
    const start = captureStart(env);
    // Unreadable (our fd limit) counts as not running: the inheritance is taken (see ParentLink).
    const isRunning = (pid: number, since?: number) => {
      const stat = tryStat(env, pid);
      return stat !== null && !isGone(stat, since);
    };
    let inheritance: Inheritance | undefined;
    try {
      inheritance = takeInheritance(env.env, env.ppid, isRunning);
    } catch (error) {
      // Tell a waiting predecessor why, so that its report names the cause (another protocol version).
      void env.parentChannel()?.send({ type: 'fatal', text: (error as Error).message }).catch(() => undefined);
      throw error;
    }
    const channel = inheritance ? env.parentChannel() : undefined;
    const registry = new ListenerRegistry();
    // The link exists before the upgrader it reports to: its after-ready hooks run only once the upgrader said ready.
    const link =
      inheritance && channel
        ? new ParentLink(
          channel, env, resolved.log, { pid: inheritance.parent, start: inheritance.start }, (name, handle) => adoptConnection(registry, name, handle, resolved.log),
          inheritance.yields ? () => continueAfterLoss(env.pid, resolved.log) : undefined,
          { retiring: (targets) => upgrader.followRetirement(targets), closed: () => upgrader.endRetirement(), handle: (kind, data, handle) => upgrader.received(kind, data, handle) },
        )
        : undefined;
    const upgrader = new Upgrader(env, resolved, start, inheritance, link, registry);
    return upgrader;
  }

  private constructor(
    private readonly env: ProcessEnvironment,
    private readonly options: ResolvedUpgraderOptions,
    private readonly start: StartSnapshot,
    private readonly inheritance: Inheritance | undefined,
    private readonly link: ParentLink | undefined,
    private readonly registry: ListenerRegistry,
  ) {
    this.isSuccessor = inheritance !== undefined;
    this.predecessorPid = inheritance?.parent;
    this.predecessorStart = inheritance?.start ?? this.processStart(inheritance?.parent);
    this.runner = new UpgradeRunner(env, options, start, this.registry, this.gate);
    this.ownWork = options.yieldDir === undefined ? this.gate : new YieldGate();
    this.peers = options.yieldDir === undefined ? undefined : new PeerYield(options.yieldDir, env.pid, this.ownWork, this.gate, {
      ignored: () => [this.predecessorPid, this.runner.snapshot().successorPid, this.runner.preparedPid],
      alive: (pid) => {
        const stat = tryStat(env, pid);
        return stat === null || !isGone(stat); // unreadable (our fd limit): counted as running
      },
      serving: () => this.readying !== undefined, // ready() called and not failed
    }, options.log);
    if (inheritance) options.log('info', 'started as a successor', { predecessorPid: inheritance.parent, listeners: inheritance.listeners });
    link?.start();
    if (inheritance && !link) {
      options.log('warn', `started as a successor of ${inheritance.parent} without a handoff channel; taking over on ready if it is gone`);
    }
  }

  /**
   * Listens on the socket inherited under `name` when there is one, else on
   * `target` (a port and host, or systemd's fd), and registers the server so that
   * a later upgrade passes it on. Resolves with the address once listening.
   */
  async listen(name: string, server: Server, target: ListenTarget): Promise<AddressInfo> {
    if (this.registry.has(name)) throw new Error(`a listener named '${name}' is already registered; give each listener its own name`);
    const fd = this.inheritance?.listeners[name];
    // An inherited socket is known before this process serves on it: its own successor's
    // process is forked now, while it starts (at its lower priority), not beside its clients.
    if (fd !== undefined) this.runner.prepare(this.registry.passable({ name, fd }));
    // Started at a lower priority: from its first connection on, this process serves at the predecessor's.
    await this.restorePriority();
    const address = await listenOn(server, fd === undefined ? target : { fd });
    this.registry.add(name, server);
    this.discardPreparedOnClose(server);
    if (fd === undefined) this.runner.prepare();
    this.options.log('info', `listening as '${name}'`, { port: address.port, address: address.address, inherited: fd !== undefined });
    return address;
  }

  /** What a successor inherits: `provider` is called once per upgrade, after the successor's hello. */
  provideState(provider: StateProvider): void {
    this.runner.stateProvider = provider;
  }

  /** The predecessor's state; undefined without a predecessor, or when none arrives within `timeoutMs`. */
  inheritedState(timeoutMs: number): Promise<unknown> {
    return this.link ? this.link.inheritedState(timeoutMs) : Promise.resolve(undefined);
  }

  /**
   * Starts a successor and waits until it is ready or has failed; never throws for
   * an expected failure. One at a time: during an upgrade, before this successor
   * said ready, or while its predecessor still drains, a call resolves `busy` at
   * once; after a handoff, `handed-over`.
   */
  async upgrade(): Promise<UpgradeOutcome> {
    const refusal = this.runner.refusal() ?? this.successorRefusal();
    if (refusal === undefined) return this.runner.upgrade();
    this.options.log('warn', `upgrade refused: ${refusal.message}`, { reason: refusal.reason });
    return { ok: false, ...refusal, output: [], durationMs: 0 };
  }

  /**
   * This process serves: writes the pid file (atomically) and, in a successor,
   * tells the predecessor, then lets go of the channel. Idempotent.
   * @throws when the pid file cannot be written (the predecessor is then not told).
   */
  ready(): Promise<void> {
    this.readying ??= (async () => {
      const unclaimed = Object.keys(this.inheritance?.listeners ?? {}).filter((name) => !this.registry.has(name));
      if (unclaimed.length > 0) {
        this.options.log('warn', `ready before listening on inherited ${unclaimed.join(', ')}: new connections wait in the backlog until then`);
      }
      this.refuseWithoutChannel();
      if (this.options.pidFile !== undefined) writePidFile(this.env, this.options.pidFile, this.env.pid);
      await this.restorePriority();
      await this.link?.ready();
      const lost = this.link?.lost;
      if (lost) this.options.log('warn', `took over from predecessor ${lost.pid}: it ${lost.exit ?? 'went away'} before this process was ready`, { pid: this.env.pid, pidFile: this.options.pidFile, predecessorPid: lost.pid });
      this.options.log('info', 'ready', { pid: this.env.pid, pidFile: this.options.pidFile });
      void this.predecessorGone();
    })().catch((error: unknown) => {
      this.readying = undefined;
      throw error;
    });
    return this.readying;
  }

  /**
   * After a handoff: hands a client connection of the listener `name` over to the
   * successor, which serves it from then on as if it had accepted it (its next
   * request, keep-alive and all, is the successor's; the client sees no close).
   * Only an idle connection moves: `busy` means a request has begun on it or its
   * response is still being written (offer it again when that response finished);
   * `unavailable`, that it cannot move (no handoff happened, the successor is gone,
   * not an HTTP server), so serve it here. HTTP servers of `node:http` only.
   */
  async handOver(name: string, socket: Socket): Promise<HandOverResult> {
    const successor = this.runner.successor;
    const server = this.registry.get(name);
    if (!successor || !server) return 'unavailable';
    return handOverConnection(server, socket, (handle) => successor.sendHandle({ type: 'connection', listener: name }, handle));
  }

  /**
   * After a handoff: passes `handle` (a pipe's or a socket's end) to the successor with `data`,
   * under `kind`, for its {@link onHandle}. This process's copy closes once sent. Rejects when
   * there is no successor (no handoff happened, or it is gone), when it does not take `kind`
   * ({@link successorWants}: a handle nobody listens for would stay open in it, unused), or when
   * the channel fails.
   */
  async sendHandle(kind: string, data: unknown, handle: unknown): Promise<void> {
    const successor = this.runner.successor;
    if (!successor) throw new Error(`no successor to pass a ${kind} to`);
    if (!this.successorWants(kind)) throw new Error(`the successor takes no ${kind}: it did not listen for it (onHandle) before its ready`);
    await successor.sendHandle({ type: 'handle', kind, data }, handle);
  }

  /** After a handoff: whether the successor listens for handles of `kind` (it called `onHandle(kind)` before its ready). */
  successorWants(kind: string): boolean {
    return this.runner.snapshot().state === 'handed-over' && this.runner.successorWants.has(kind);
  }

  /**
   * After a handoff: the tree of this process's child `pid` is the successor's from now on (a
   * browser whose pipe went over {@link sendHandle}). No step of this process's retirement touches
   * it: it does not go to SCHED_IDLE with this tree, and it is not offered to be stopped.
   */
  passOn(pid: number): void {
    this.passedOn.add(pid);
  }

  /**
   * In a successor: calls `listener` with each handle the predecessor passes under `kind`
   * ({@link sendHandle}). Registering tells the predecessor that this process takes that kind
   * ({@link successorWants}), so none comes before its listener: register before ready.
   */
  onHandle(kind: string, listener: (data: unknown, handle: unknown) => void): void {
    if (!this.handleListeners.has(kind)) this.link?.wants(kind);
    this.handleListeners.set(kind, listener);
  }

  /**
   * Calls `listener` with each message a successor's app sends under `kind`
   * ({@link sendToPredecessor}), from its start on, with that successor to answer (`from.send`)
   * and its exit (`from.exited`: a start that fails ends with it). One listener per kind.
   */
  onSuccessorMessage(kind: string, listener: (data: unknown, from: SuccessorPeer) => void): void {
    this.runner.appListeners.set(kind, listener);
  }

  /**
   * In a successor: sends `data` under `kind` to the predecessor's {@link onSuccessorMessage}, at
   * any time from this process's start. Rejects without a predecessor, or once the channel to it
   * is gone (it exited).
   */
  async sendToPredecessor(kind: string, data: unknown): Promise<void> {
    if (!this.link) throw new Error(`no predecessor to send a ${kind} message to`);
    await this.link.message(kind, data);
  }

  /** In a successor: calls `listener` with each message the predecessor sends under `kind` (`from.send` of {@link onSuccessorMessage}). */
  onPredecessorMessage(kind: string, listener: (data: unknown) => void): void {
    this.link?.appListeners.set(kind, listener);
  }

  /** A handle from the predecessor (ParentLink); one of a kind nobody listens for is closed. */
  private received(kind: string, data: unknown, handle: unknown): void {
    const listener = this.handleListeners.get(kind);
    if (listener) return listener(data, handle);
    this.options.log('warn', `the predecessor passed a ${kind}, which this process does not listen for; closed`);
    const closable = handle as { destroy?: () => void; close?: () => void };
    if (closable.destroy) closable.destroy();
    else closable.close?.();
  }

  /** A successor that got no channel (its app closed it before the upgrader ran) may only take over from a predecessor that is gone. */
  private refuseWithoutChannel(): void {
    const pid = this.predecessorPid;
    if (this.link || pid === undefined || this.processStart(pid) === undefined || this.processStart(pid) !== this.predecessorStart) return;
    throw new Error(`predecessor ${pid} still runs but there is no handoff channel to tell it that this process is ready; not taking over`);
  }

  /**
   * Resolves once the predecessor has exited (at once without one, or when it died
   * before this process was ready), and logs how it ended when that can be seen (a
   * zombie's status). It is watched from `ready()` on through /proc, with an
   * unref'd timer: what a predecessor that dies mid-drain leaves (a browser profile)
   * can be cleaned up then.
   */
  predecessorGone(): Promise<void> {
    const pid = this.predecessorPid;
    if (pid === undefined || this.predecessorStart === undefined || this.link?.lost) return Promise.resolve();
    this.gone ??= new Promise<void>((resolve) => {
      const look = () => {
        const stat = tryStat(this.env, pid);
        if (stat === null || !isGone(stat, this.predecessorStart)) {
          if (stat) this.escapeRetiringPredecessor(stat);
          this.env.setTimer(look, HANDOFF_TIMINGS.predecessorPollMs);
          return;
        }
        const how = describeExit(stat);
        this.options.log(how === undefined || how === 'exited with code 0' ? 'info' : 'warn', `predecessor ${pid} ${how ?? 'has exited'}`, { predecessorPid: pid });
        resolve();
      };
      look();
    });
    return this.gone;
  }

  /**
   * After a handoff, before this process lets go of what it holds (a browser) and exits:
   * it and everything it started, except the successor's tree, go to `SCHED_IDLE`. What
   * a retiring process does then (closing a browser, freeing its memory as its processes
   * exit) runs only on a CPU the successor and the rest of its scheduling group leave idle;
   * at its own priority it competed with the successor's first requests as an equal
   * (tools/bench/README.md, "A quiet retirement"). Needs `chrt`, and the right to leave
   * `SCHED_IDLE` (CAP_SYS_NICE or RLIMIT_NICE, as `successorIdle`), since the successor
   * sets a predecessor that has not exited `retireEscapeMs` later back to `SCHED_OTHER`;
   * where either is missing nothing changes and the result says why. Never throws.
   */
  async retireIdle(): Promise<RetireIdleResult> {
    const successor = this.runner.successor?.pid;
    if (this.runner.snapshot().state !== 'handed-over' || successor === undefined) return { ok: false, reason: 'no handoff has happened: this process still serves' };
    const support = idleSupport(environmentProbe(this.env));
    if (!support.ok) return { ok: false, reason: support.reason };
    try {
      const result = await enterIdle(this.env.pid, support.chrt, '/proc', [successor, ...this.passedOn]);
      return { ok: true, processes: result.processes, failures: result.failures };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  /**
   * After a handoff, as this process lets go of what it holds (once no work of its own needs
   * it): offers the successor its children's trees, not itself nor the successor's (a child
   * leading a process group of its own, as puppeteer starts a browser, as its whole group). A
   * successor whose `retireYield` is on stops them while it does work whose latency counts,
   * and continues them when none is left: what a browser does as it closes waits for that work,
   * up to the moment a process of it begins to exit (the kernel's part of an exit cannot be
   * stopped). Should the successor die, this process continues them. Returns the number of
   * targets offered (0: no handoff, or no child). Never throws.
   *
   * `offer: false`: offers nothing, and asks the successor only to report its work, for
   * {@link untilSuccessorIdle}: this process then lets go of what it holds one step at a time
   * between that work, and keeps its children stopped itself (a successor would continue them).
   */
  retiring(options: { offer?: boolean } = {}): number {
    const successor = this.runner.successor;
    if (this.runner.snapshot().state !== 'handed-over' || successor?.pid === undefined) return 0;
    const offer = options.offer !== false;
    let targets: number[] = [];
    try {
      if (offer) targets = retirementTargets(this.env, this.env.pid, successor.pid, undefined, [...this.passedOn]);
    } catch (error) {
      this.options.log('warn', `could not list this process's children to offer them to the successor: ${(error as Error).message}`);
      return 0;
    }
    if (offer && targets.length === 0) return 0;
    if (!offer) this.runner.successorWork.expectReports();
    void successor.send({ type: 'retiring', targets }).catch(() => undefined); // the successor is gone: nothing was stopped
    void this.runner.successorExited?.then(() => {
      for (const target of targets) this.env.kill(target, 'SIGCONT');
    });
    return targets.length;
  }

  /**
   * After a handoff, as this process lets go of what it holds step by step: resolves once the
   * successor has no work whose latency counts in flight, as it reports it after
   * `retiring()` (a successor with `retireYield` does), or after `maxWaitMs` (default
   * `retireYield.maxStopMs`, else 250), whichever comes first; at once without such a
   * successor. Resolves with the milliseconds waited; never rejects.
   */
  untilSuccessorIdle(maxWaitMs = (this.options.retireYield ?? START_YIELD_BOUNDS).maxStopMs): Promise<number> {
    if (this.runner.snapshot().state !== 'handed-over') return Promise.resolve(0);
    // Unlike this library's other timers, the wait holds the process: an app awaits it on its way
    // out, and one with nothing else left would otherwise exit in the middle of its shutdown.
    const hold = setTimeout(() => undefined, maxWaitMs + 1_000);
    return this.runner.successorWork.idle(maxWaitMs).finally(() => clearTimeout(hold));
  }

  /**
   * In a successor: the retiring predecessor offered `targets` (perhaps none); with `retireYield`
   * they are stopped during this process's work, and the predecessor hears when that work
   * begins and ends, until it exits.
   */
  private followRetirement(targets: number[]): void {
    const bounds = this.options.retireYield;
    const link = this.link;
    if (bounds === undefined || this.retirement !== undefined || this.predecessorPid === undefined || link === undefined) return;
    link.reportWork(this.gate.held);
    const stopReporting = this.gate.subscribe((held) => link.reportWork(held));
    const yielding = targets.length > 0 ? new StartYield(this.env, this.gate, () => targets, bounds) : undefined;
    this.retirement = { yielding, targets, stopReporting };
    if (yielding) this.options.log('info', `predecessor ${this.predecessorPid} retires: its ${targets.length} offered processes or groups stop while this process does work whose latency counts`, { predecessorPid: this.predecessorPid, targets });
    else this.options.log('info', `predecessor ${this.predecessorPid} retires: it lets go of what it holds between this process's work whose latency counts, which this process reports to it`, { predecessorPid: this.predecessorPid });
  }

  /**
   * In a successor: the predecessor's channel closed (it exited or died): what is stopped
   * continues at once. What it offered and still runs (a browser's helpers exit after it) is
   * followed for `retireTailMs` more, until all of it is gone. `now` (this upgrader closes):
   * it ends here.
   */
  private endRetirement(now = false): void {
    const retirement = this.retirement;
    const pid = this.predecessorPid;
    if (retirement === undefined || pid === undefined) return;
    retirement.stopReporting();
    retirement.yielding?.interrupt();
    const finish = () => {
      if (this.retirement !== retirement) return;
      this.retirement = undefined;
      if (retirement.yielding) logStartYield(this.options.log, pid, retirement.yielding.end(), 'retiring predecessor');
    };
    if (now) return finish();
    const until = this.env.now() + HANDOFF_TIMINGS.retireTailMs;
    const look = () => {
      if (this.retirement !== retirement) return;
      if (this.env.now() >= until || !this.stillRuns(retirement.targets)) return finish();
      this.env.setTimer(look, RETIRE_TAIL_POLL_MS);
    };
    look();
  }

  /** Whether any of `targets` (a group: its leader) still runs; unreadable counts as running. */
  private stillRuns(targets: number[]): boolean {
    return targets.some((target) => {
      const stat = tryStat(this.env, Math.abs(target));
      return stat === null || !isGone(stat);
    });
  }

  /** In a successor: a predecessor that has run at SCHED_IDLE for `retireEscapeMs` without exiting is set back (once). */
  private escapeRetiringPredecessor({ pid, policy }: ProcStat): void {
    if (this.raisingPredecessor !== undefined || policy !== SCHED_IDLE) return;
    const now = this.env.now();
    this.predecessorIdleSince ??= now;
    if (now - this.predecessorIdleSince < HANDOFF_TIMINGS.retireEscapeMs) return;
    const chrt = findChrt(environmentProbe(this.env));
    if (chrt === undefined) return;
    this.raisingPredecessor = raiseRetiringPredecessor(pid, this.env.pid, chrt, HANDOFF_TIMINGS.retireEscapeMs, this.options.log).catch((error: Error) =>
      this.options.log('warn', `could not look at the retiring predecessor's tree: ${error.message}`, { predecessorPid: pid }),
    );
  }

  /**
   * Marks work of this process whose latency counts (a render) until the returned function
   * is called (once; later calls do nothing). With `startYield`, a successor starting
   * meanwhile is stopped with its tree, within bounds, and continued when no such work is
   * left; with `retireYield`, so are the processes a retiring predecessor offered (`retiring`).
   * Without either, or with nothing to stop, it only counts. Cheap: call it per request.
   */
  yieldStart(): () => void {
    if (this.ownWork === this.gate) return this.gate.hold();
    const own = this.ownWork.hold();
    const followed = this.gate.hold();
    return () => {
      own();
      followed();
    };
  }

  /** Kills a starting successor with its tree (the running `upgrade()` resolves `cancelled`); resolves when it is gone. */
  cancel(reason: string): Promise<void> {
    return this.runner.cancel(reason);
  }

  /** For the health body: whether handoff is supported here, its state, attempts, pids and the last outcome. */
  snapshot(): HandoffSnapshot {
    const supported = unsupportedBecause(this.start) === undefined;
    const lost = this.link?.lost;
    return {
      supported, ...this.runner.snapshot(),
      ...(this.predecessorPid === undefined ? {} : { predecessorPid: this.predecessorPid }),
      ...(lost ? { predecessorLost: lost } : {}),
    };
  }

  /** The pid of the next successor's process, forked ahead (`prepareSuccessor`) and waiting; else undefined. */
  get preparedPid(): number | undefined {
    return this.runner.preparedPid;
  }

  /** Lets go of the predecessor's channel, ends a prepared successor's process and kills a starting successor: no timer or listener is left. */
  close(): void {
    this.peers?.close();
    this.endRetirement(true);
    this.link?.close();
    this.runner.discardPrepared();
    void this.runner.cancel('upgrader closed');
  }

  /**
   * A prepared successor's process holds the listening sockets: were it left while `server`
   * closes, new connections would wait in a backlog nobody accepts from (instead of being
   * refused, so that a proxy tries the next server). So it ends first. The hook sits on the
   * server's listening handle (where `listenerFd` reads the fd): apps stop accepting with
   * `net.Server.prototype.close.call(server)` too, which an own `close` would miss.
   */
  private discardPreparedOnClose(server: Server): void {
    if (!this.options.prepareSuccessor) return;
    const handle = (server as unknown as { _handle?: { close?: (...args: unknown[]) => unknown } | null })._handle;
    const close = handle?.close;
    if (!handle || typeof close !== 'function') return;
    const runner = this.runner;
    handle.close = function (this: unknown, ...args: unknown[]) {
      runner.discardPrepared();
      return close.apply(this, args);
    };
  }

  /** Once: a successor started at a lower priority sets its scheduling group back to the predecessor's value. */
  private restorePriority(): Promise<void> {
    const nice = this.inheritance?.nice;
    if (this.inheritance?.idle) this.restoring ??= leaveIdleSelf(this.env.pid, this.env.env['PATH'], this.options.log, this.options.successorHelpersIdleMs);
    if (nice === undefined) return this.restoring ?? Promise.resolve();
    this.restoring ??= restoreOwnGroup(this.env, nice, this.options.log);
    return this.restoring;
  }

  private successorRefusal(): { reason: 'busy'; message: string } | undefined {
    if (this.link && this.readying === undefined) return { reason: 'busy', message: 'this process has not said ready to its predecessor yet' };
    const pid = this.predecessorPid;
    if (pid !== undefined && this.predecessorStart !== undefined && this.processStart(pid) === this.predecessorStart) {
      return { reason: 'busy', message: `predecessor ${pid} still runs (draining); one handoff at a time` };
    }
    return undefined;
  }

  /** The start time of a running process (zombies count as gone), to recognise it across pid reuse. */
  private processStart(pid: number | undefined): number | undefined {
    if (pid === undefined) return undefined;
    const stat = tryStat(this.env, pid);
    if (stat === null) return pid === this.predecessorPid ? this.predecessorStart : undefined; // not known: as it was
    return stat && !isGone(stat) ? stat.startTime : undefined;
  }
}

/** While a successor follows a retiring predecessor's offered processes past its exit, it looks this often whether they are gone. */
const RETIRE_TAIL_POLL_MS = 50;

/** In a successor: a connection the predecessor handed over joins the server registered under `name`. */
function adoptConnection(registry: ListenerRegistry, name: string, handle: unknown, log: ResolvedUpgraderOptions['log']): void {
  // `handle` is how Node itself wraps a received handle (child_process): not in the public typings.
  const socket = new Socket({ handle, readable: true, writable: true } as SocketConstructorOpts);
  const server = registry.get(name);
  if (!server) {
    log('warn', `a connection for listener '${name}' arrived, but no such listener is registered; closed`);
    socket.destroy();
    return;
  }
  server.emit('connection', socket);
}

/**
 * In a successor whose predecessor went away while it may have been stopped (start-yield.ts):
 * the kernel continued this process; its browser, stopped with it, is continued here.
 */
function continueAfterLoss(pid: number, log: ResolvedUpgraderOptions['log']): void {
  try {
    const continued = continueStoppedTree(pid);
    if (continued > 0) log('warn', `continued ${continued} processes of this tree that the predecessor had stopped while this process started`);
  } catch (error) {
    log('warn', `could not look for stopped processes of this tree: ${(error as Error).message}`);
  }
}
