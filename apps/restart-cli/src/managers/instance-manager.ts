/** What `start()` reports about the new instance. */
export interface StartedInstance {
  /** The new main pid when the manager knows it right away. */
  readonly pid: number | undefined;
  /** One line for the step list, e.g. `started pid 123, log run/api.pid.log`. */
  readonly detail: string;
}

/**
 * Who keeps a pid file true after a handoff: the API (its PID_FILE is that file), the
 * CLI (the API writes none), or nobody can (they name different files: a usage error).
 */
export type PidFileOwner = { readonly owner: 'api' | 'cli' } | { readonly conflict: string };

/**
 * How an instance is stopped and started, or told to hand over to a successor:
 * systemd units or a pid file plus a start command. The restart flows only talk
 * to this interface.
 */
export interface InstanceManager {
  /** `systemd unit edu_agents@0.service` / `pid file run/api-0.pid`. */
  readonly label: string;
  /** The running main process, or `undefined` when none runs. */
  readPid(): Promise<number | undefined>;
  /** Sends the graceful shutdown signal (SIGTERM) to the main process only. */
  signalStop(pid: number): Promise<void>;
  /**
   * Triggers a hot handoff of the main process `pid` (SIGHUP; the API starts its own
   * successor). Resolves one line for the step list; throws when it cannot be sent.
   */
  triggerHandoff(pid: number): Promise<string>;
  /** Why this manager cannot start a new instance (a replace restart), as a usage message; `undefined` when it can. */
  replaceUsage(): string | undefined;
  /** True once the process `pid` has exited. */
  isGone(pid: number): Promise<boolean>;
  /** Starts a new instance. Throws when that is impossible. */
  start(): Promise<StartedInstance>;
  /** After `start()`: a description of the failure when the new instance already died, else `undefined`. */
  startFailure(): Promise<string | undefined>;
  /**
   * Managers with a pid file: who writes it after a handoff, from the pid file the API
   * reports on /health (`details.shutdown.pidFile`: a path, `null` for none, `undefined`
   * when the API does not say, which keeps the old rule: the API writes it).
   */
  pidFileOwner?(reported: string | null | undefined): Promise<PidFileOwner>;
  /** Managers with a pid file: writes `pid` to it atomically (the CLI's part when the API writes none). */
  recordPid?(pid: number): Promise<void>;
  /** A hint for the drain step, e.g. systemd's TimeoutStopSec; `undefined` when unknown. */
  stopTimeoutMs?(): Promise<number | undefined>;
}
