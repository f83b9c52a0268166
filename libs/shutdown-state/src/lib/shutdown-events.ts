import type { InFlightEntry } from './in-flight-registry';
import type { SignalAction, StopSignal } from './signal-policy';
import type { ShutdownPhase, ShutdownState } from './shutdown-state';

/** What the coordinator reports; the edge turns each into one log line. */
export type ShutdownLogEvent =
  | { kind: 'phase'; phase: ShutdownPhase; state: ShutdownState; reason: string; inFlight: number; deadline: string | null }
  | { kind: 'signal'; signal: StopSignal; action: SignalAction; inFlight: number }
  | { kind: 'cut-off'; method: string; route: string; ageMs: number; reason: 'timeout' | 'skipped' }
  | { kind: 'hook'; name: string; outcome: 'ok' | 'failed' | 'timed out'; durationMs: number; error?: string }
  | { kind: 'forced-exit'; inFlight: InFlightEntry[] };

/** Side effects, injected so tests drive them with fake time. */
export interface ShutdownDeps {
  now: () => number;
  /** Schedules `fn`; real implementations `unref()` the timer so it never keeps the process alive. */
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  exit: (code: number) => void;
  log: (event: ShutdownLogEvent) => void;
}

/** The real side effects: wall clock, unref'd timers, `process.exit`. */
export function processShutdownDeps(log: ShutdownDeps['log']): ShutdownDeps {
  return {
    now: Date.now,
    setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    exit: (code) => process.exit(code),
    log,
  };
}
