/** Signals that ask the service to stop. */
export type StopSignal = 'SIGTERM' | 'SIGINT';

/**
 * What a signal does:
 * - `begin`: start the graceful shutdown;
 * - `ignore`: already shutting down, the drain goes on (a repeated SIGTERM, as
 *   systemctl may send, never shortens it);
 * - `skipDrain`: a person pressed Ctrl-C twice: skip the delay and the drain,
 *   go straight to cleanup;
 * - `forceExit`: a third Ctrl-C: exit 1 at once, after logging what was in flight.
 */
export type SignalAction = 'begin' | 'ignore' | 'skipDrain' | 'forceExit';

export interface SignalHistory {
  /** Whether a shutdown has begun. */
  readonly begun: boolean;
  /** SIGINTs received so far, not counting the one being decided. */
  readonly interrupts: number;
}

/** Decides what `signal` does given the signals received before it. Pure. */
export function signalAction(history: SignalHistory, signal: StopSignal): SignalAction {
  if (!history.begun) return 'begin';
  if (signal === 'SIGTERM') return 'ignore';
  const interrupts = history.interrupts + 1;
  if (interrupts >= 3) return 'forceExit';
  return interrupts === 2 ? 'skipDrain' : 'ignore';
}
