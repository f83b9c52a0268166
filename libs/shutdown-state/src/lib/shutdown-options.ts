/** Timing of the shutdown sequence. */
export interface ShutdownOptions {
  /** How long in-flight work may take after new work is refused, before it is cut off. */
  timeoutMs: number;
  /** Propagation delay: keep serving while readiness is already 503 (Kubernetes mode). 0 = reject at once. */
  delayMs: number;
  /** Default bound of each cleanup hook. */
  hookTimeoutMs: number;
}

/**
 * The one place shutdown defaults live. `timeoutMs` stays well below systemd's
 * `TimeoutStopSec=30` so that drain + cleanup finish before systemd sends SIGKILL.
 */
export const SHUTDOWN_DEFAULTS: Readonly<ShutdownOptions> = Object.freeze({
  timeoutMs: 20_000,
  delayMs: 0,
  hookTimeoutMs: 5_000,
});

/** A cleanup step run after the drain, in registration order, each bounded. */
export interface ShutdownHook {
  name: string;
  run: () => Promise<void> | void;
  /** Overrides `ShutdownOptions.hookTimeoutMs` for this hook. */
  timeoutMs?: number;
}

/**
 * Serving on after a stop while readiness is already 503, until nothing is left
 * to serve: what a process does after a hot handoff, for the requests that still
 * arrive on the client connections it accepted before the switch.
 */
export interface Linger {
  /** Upper bound of the lingering; then the ordinary drain begins. */
  maxMs: number;
  /** True once nothing is left to serve (e.g. every client connection closed). */
  settled: () => boolean;
  /** Calls `wake` whenever `settled()` may have turned true; returns the unsubscribe. */
  subscribe: (wake: () => void) => () => void;
}

/** Options of one `ShutdownCoordinator.stop()`. */
export interface StopOptions {
  linger?: Linger;
}
