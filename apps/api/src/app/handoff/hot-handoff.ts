import type { HandoffSnapshot, HandoffUpgrader, LastUpgrade, UpgradeOutcome } from '@edu-agents/process-handoff';
import type { ShutdownCoordinator } from '@edu-agents/shutdown-state';
import type { SdNotifier } from '../../systemd/sd-notify';
import type { Logger } from '../logging/logger';
import { takeBackPidFile } from '../runtime/pid-file';

/** What the predecessor serves on after the switch, known once the HTTP server exists. */
export interface HandoffServing {
  /** Stops accepting on the listening socket (the successor accepts on it by then). */
  stopAccepting(): Promise<void> | void;
  /** Client connections accepted before the switch, still served until they close. */
  connections: { readonly count: number; onClose(listener: () => void): () => void };
  /** From the switch on, QC work that still starts here goes to the successor (so this process's Chromium takes no new job); other requests are answered here. */
  forwardToSuccessor?(): void;
  /** At the switch, once no QC request of its own is in flight: passes its Chromium on to the successor (HANDOFF_TAKE_OVER_CHROME). */
  passOnChrome?(): Promise<void>;
  /** From the switch on, client connections move to the successor as soon as each is idle. */
  moveConnections?(): void;
  /**
   * Lets go of what the successor has its own of (the QC pool and its Chromium) once
   * no request of this process's own still needs it; resolves when released.
   */
  releaseAfterSwitch?(): Promise<void>;
  /** Called as a successor starts; the function it returns is called when the upgrade has ended, either way. */
  whileSuccessorStarts?(): () => void;
}

export interface HotHandoffDeps {
  upgrader: HandoffUpgrader;
  coordinator: ShutdownCoordinator;
  notifier: SdNotifier;
  logger: Logger;
  /** HANDOFF_ENABLED. */
  enabled: boolean;
  /** Upper bound of serving the old connections after the switch (SHUTDOWN_TIMEOUT_MS). */
  lingerMs: number;
  /**
   * Ms after the switch before this process lets go of its QC pool and stops (HANDOFF_RETIRE_AFTER_MS):
   * its release then does not fall on the successor's first requests. Connections move at the switch.
   */
  retireAfterMs: number;
  /** This process's own tree (not the successor's) goes to SCHED_IDLE as it retires (HANDOFF_RETIRE_IDLE). */
  retireIdle: boolean;
  /**
   * The retirement goes step by step between the successor's renders, which the successor reports
   * from the retirement's start (HANDOFF_RETIRE_YIELD; `retiring({ offer: false })`).
   */
  retireYield?: boolean;
  /** Schedules the retirement; default setTimeout. Tests pass their own. */
  setTimer?: (fn: () => void, ms: number) => void;
  /** Cleans what a killed successor left behind (its Chromium profiles). */
  afterFailure?: () => void;
  /** PID_FILE, which a failed successor may have rewritten just before it was stopped. */
  pidFile?: string;
}

/** The last attempt as `/health` shows it; a failed one carries the successor's last lines. */
export interface LastHandoff extends LastUpgrade {
  output?: string[];
}

/** The `handoff` entry of `/health`. */
export interface HandoffHealth extends Omit<HandoffSnapshot, 'last'> {
  enabled: boolean;
  last?: LastHandoff;
}

/**
 * The API's side of a hot handoff. A trigger (SIGHUP, so `systemctl reload`)
 * starts a successor through the upgrader while this process serves on. When
 * the successor is ready and accepting on the same socket, this process stops
 * accepting, tells systemd nothing more (the successor is the main process now),
 * serves the connections it already has until they close (readiness 503, every
 * response `Connection: close`) and then runs the ordinary shutdown. When the
 * successor fails, this process stays ready and says why.
 */
export class HotHandoff {
  private serving: HandoffServing | undefined;
  private last: LastHandoff | undefined;

  constructor(private readonly deps: HotHandoffDeps) {}

  /** Called once the HTTP server listens; a trigger before that is refused. */
  attach(serving: HandoffServing): void {
    this.serving = serving;
  }

  /** Starts a handoff unless handoffs are off, the process is not ready, or one runs. Never throws. */
  async trigger(source: string): Promise<UpgradeOutcome | undefined> {
    const { upgrader, coordinator, notifier, logger } = this.deps;
    if (!this.deps.enabled) {
      logger.warn(`${source}: hot handoff is off (HANDOFF_ENABLED=false); this process serves on`);
      return undefined;
    }
    if (coordinator.state !== 'ready' || !this.serving) {
      logger.warn(`${source}: no handoff while ${coordinator.snapshot().phase}; trigger it again once /health answers ready`);
      return undefined;
    }
    const before = upgrader.snapshot().state;
    if (before === 'idle') {
      logger.info(`handoff requested by ${source}: starting a successor`, { pid: process.pid });
      notifier.reloading(`handoff: starting a successor (${source})`);
    }
    const restore = before === 'idle' ? this.serving.whileSuccessorStarts?.() : undefined;
    let outcome: UpgradeOutcome;
    try {
      outcome = await upgrader.upgrade();
    } finally {
      restore?.();
    }
    if (outcome.ok || (outcome.reason !== 'busy' && outcome.reason !== 'handed-over')) this.last = describe(outcome);
    if (outcome.ok) {
      this.switchOver(outcome.successorPid, this.serving);
    } else if (outcome.reason !== 'busy' && outcome.reason !== 'handed-over') {
      if (coordinator.state === 'ready') notifier.ready(`serving; handoff failed: ${outcome.message}`);
      // The upgrader logged why, with the successor's last lines; /health shows them too.
      logger.warn('handoff failed: this process serves on and stays ready', { pid: process.pid, successorPid: outcome.successorPid });
      this.deps.afterFailure?.();
    }
    return outcome;
  }

  /**
   * The upgrader calls this when a failed successor has been stopped (SIGSTOP) and
   * before it is killed. It claims the service just before it says ready (PID_FILE,
   * then MAINPID=), so one that was too late (a timeout, SIGKILL at that moment)
   * may have claimed already: this process takes both back while the successor can
   * no longer answer, so that systemd never sees its main process die.
   */
  async reclaim(successorPid: number): Promise<void> {
    const { notifier, logger, pidFile } = this.deps;
    if (pidFile && takeBackPidFile(pidFile, successorPid)) logger.warn(`handoff: took back ${pidFile} from the failed successor`, { successorPid });
    notifier.mainPid(process.pid);
    await notifier.flush();
  }

  /** Kills a successor that is still starting (a stop signal arrived); resolves when it is gone. */
  cancel(reason: string): Promise<void> {
    return this.deps.upgrader.cancel(reason);
  }

  snapshot(): HandoffHealth {
    const { last: _last, ...snapshot } = this.deps.upgrader.snapshot();
    return { enabled: this.deps.enabled, ...snapshot, ...(this.last ? { last: this.last } : {}) };
  }

  private switchOver(successorPid: number, serving: HandoffServing): void {
    const { notifier, logger, retireAfterMs } = this.deps;
    // systemd follows the successor now (it sent MAINPID=); a STOPPING=1 from
    // this process would stop the whole unit.
    notifier.close();
    void serving.stopAccepting();
    serving.forwardToSuccessor?.();
    void serving.passOnChrome?.().catch((error: unknown) => logger.warn('handed over: passing Chromium to the successor failed; it launches its own', { error: String(error) }));
    serving.moveConnections?.();
    logger.info(`handed over: stopped accepting; moving the connections accepted before the switch to the successor, then retiring in ${retireAfterMs} ms`, {
      successorPid, connections: serving.connections.count,
    });
    const switchedAt = Date.now();
    // Letting go of Chromium and exiting costs whoever runs beside it: not at the switch, where
    // it fell on the successor's first renders (tools/bench/README.md, "A quiet retirement").
    // Not unref'd: with nothing else left (no QC pool, no connection) the process would exit
    // here without its shutdown.
    const setTimer = this.deps.setTimer ?? ((fn, ms) => void setTimeout(fn, ms));
    setTimer(() => void this.retire(successorPid, serving, switchedAt), retireAfterMs);
  }

  /** After the switch: this process's tree at SCHED_IDLE, then its pool released and the ordinary shutdown. */
  private async retire(successorPid: number, serving: HandoffServing, switchedAt: number): Promise<void> {
    const { coordinator, logger, lingerMs, upgrader } = this.deps;
    // A stop signal since the switch began the shutdown already, at this process's priority.
    if (coordinator.state !== 'ready') return;
    if (this.deps.retireYield) {
      upgrader.retiring({ offer: false });
      await upgrader.untilSuccessorIdle();
      if (coordinator.state !== 'ready') return;
    }
    if (this.deps.retireIdle) {
      const idle = await upgrader.retireIdle();
      if (idle.ok && idle.failures.length === 0) logger.info(`handed over: retiring at SCHED_IDLE (${idle.processes} processes of this tree)`, { afterSwitchMs: Date.now() - switchedAt });
      else if (idle.ok) logger.warn(`handed over: retiring; some processes stayed at their policy: ${idle.failures.join('; ')}`, { processes: idle.processes });
      else logger.warn(`handed over: retiring at this process's priority: ${idle.reason}`);
      if (coordinator.state !== 'ready') return;
    }
    void serving.releaseAfterSwitch?.().then(
      () => logger.info('handed over: released the QC pool and its Chromium', { afterSwitchMs: Date.now() - switchedAt }),
      (error: unknown) => logger.warn('handed over: releasing the QC pool failed; the shutdown closes it', { error: String(error) }),
    );
    void coordinator.stop(`handed over to pid ${successorPid}`, {
      linger: { maxMs: lingerMs, settled: () => serving.connections.count === 0, subscribe: (wake) => serving.connections.onClose(wake) },
    });
  }
}

function describe(outcome: UpgradeOutcome): LastHandoff {
  const at = new Date().toISOString();
  if (outcome.ok) return { ok: true, successorPid: outcome.successorPid, durationMs: outcome.durationMs, at };
  const { ok, reason, message, successorPid, exit, durationMs, output } = outcome;
  return { ok, reason, message, successorPid, exit, durationMs, at, output };
}
