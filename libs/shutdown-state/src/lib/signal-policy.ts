/** Signals that ask the service to stop. */
export type StopSignal = 'SIGTERM' | 'SIGINT';

/**
 * What a signal does:
 * - `begin`: start the graceful shutdown;
 * - `ignore`: already shutting down, the drain goes on (a repeated SIGTERM, as
 *   systemctl may send, never shortens it; nor does one Ctrl-C delivered twice);
 * - `skipDrain`: a person pressed Ctrl-C twice: skip the delay and the drain,
 *   go straight to cleanup;
 * - `forceExit`: a third Ctrl-C: exit 1 at once, after logging what was in flight.
 */
export type SignalAction = 'begin' | 'ignore' | 'skipDrain' | 'forceExit';

/**
 * SIGINTs closer together than this are one Ctrl-C. A terminal sends SIGINT to
 * every process of its foreground group, and a parent that forwards signals
 * (npm, a shell's trap) sends the same keypress again a few milliseconds later;
 * a person pressing Ctrl-C twice takes far longer.
 */
export const SAME_KEYPRESS_MS = 250;

export interface SignalHistory {
  /** Whether a shutdown has begun. */
  readonly begun: boolean;
  /** Distinct Ctrl-Cs received so far, not counting the one being decided. */
  readonly interrupts: number;
  /** Milliseconds since the previous SIGINT, or `undefined` when there was none. */
  readonly sinceLastInterruptMs?: number;
}

/** Whether a SIGINT is a new keypress, not the echo of the previous one. Pure. */
export function isNewInterrupt(history: SignalHistory): boolean {
  return history.sinceLastInterruptMs === undefined || history.sinceLastInterruptMs >= SAME_KEYPRESS_MS;
}

/** Decides what `signal` does given the signals received before it. Pure. */
export function signalAction(history: SignalHistory, signal: StopSignal): SignalAction {
  if (!history.begun) return 'begin';
  if (signal === 'SIGTERM' || !isNewInterrupt(history)) return 'ignore';
  const interrupts = history.interrupts + 1;
  if (interrupts >= 3) return 'forceExit';
  return interrupts === 2 ? 'skipDrain' : 'ignore';
}
