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
