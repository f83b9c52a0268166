/**
 * The shutdown state machine: a string-literal state and a pure transition
 * function. No timers, no `process`, no framework: the coordinator and the HTTP
 * edge translate real events into these.
 *
 * `delaying` and `cleaning` are internal refinements; the outside world (health
 * body, logs) sees the public phases `starting | ready | draining | stopped`.
 */
export type ShutdownState = 'starting' | 'ready' | 'delaying' | 'draining' | 'cleaning' | 'stopped';

/** The phase reported on `/health` and in logs. */
export type ShutdownPhase = 'starting' | 'ready' | 'draining' | 'stopped';

export type ShutdownEvent =
  /** The service is up and serving. */
  | { type: 'started' }
  /** A stop was requested; `delay` says whether a propagation delay runs first. */
  | { type: 'stop'; delay: boolean }
  /** The propagation delay elapsed (or was skipped): stop admitting new work. */
  | { type: 'delayElapsed' }
  /** In-flight work reached zero, or the drain deadline passed. */
  | { type: 'drained' }
  /** Cleanup hooks all settled. */
  | { type: 'cleanedUp' };

/**
 * Next state for an event; an event that does not apply in a state leaves it
 * unchanged (a repeated stop request is such an event).
 */
export function transition(state: ShutdownState, event: ShutdownEvent): ShutdownState {
  switch (event.type) {
    case 'started':
      return state === 'starting' ? 'ready' : state;
    case 'stop':
      if (state === 'starting' || state === 'ready') return event.delay ? 'delaying' : 'draining';
      return state;
    case 'delayElapsed':
      return state === 'delaying' ? 'draining' : state;
    case 'drained':
      return state === 'draining' || state === 'delaying' ? 'cleaning' : state;
    case 'cleanedUp':
      return state === 'cleaning' ? 'stopped' : state;
  }
}

/** The public phase of a state. Fails to compile when a state is missing. */
export function phaseOf(state: ShutdownState): ShutdownPhase {
  switch (state) {
    case 'starting':
      return 'starting';
    case 'ready':
      return 'ready';
    case 'delaying':
    case 'draining':
    case 'cleaning':
      return 'draining';
    case 'stopped':
      return 'stopped';
  }
}

/**
 * Whether new non-health requests are served. During `delaying` the service
 * keeps serving while readiness already answers 503 (Kubernetes mode).
 */
export function isAdmitting(state: ShutdownState): boolean {
  switch (state) {
    case 'starting':
    case 'ready':
    case 'delaying':
      return true;
    case 'draining':
    case 'cleaning':
    case 'stopped':
      return false;
  }
}

/** Whether readiness answers 200. */
export function isReady(state: ShutdownState): boolean {
  return state === 'ready';
}
