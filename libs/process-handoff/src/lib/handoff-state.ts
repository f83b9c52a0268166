/**
 * The handoff state machine of one process, seen from the predecessor's side: a
 * string-literal state and a pure transition function. No timers, no `process`:
 * the upgrader and the child watch translate real events into these.
 *
 * idle -> spawning -> starting -> handed-over        (the successor said ready)
 *         spawning | starting -> killing -> idle     (it exited, timed out or was cancelled)
 *         spawning -> idle                           (it could not be spawned)
 */
export type HandoffState = 'idle' | 'spawning' | 'starting' | 'killing' | 'handed-over';

export type HandoffEvent =
  /** `upgrade()` was accepted: a successor is being spawned. */
  | { type: 'trigger' }
  /** The successor could not be spawned at all. */
  | { type: 'spawnFailed' }
  /** The successor's library runs and greeted us. */
  | { type: 'hello' }
  /** The successor serves: the handoff is done. */
  | { type: 'ready' }
  /** The successor exited, was not ready in time, or the upgrade was cancelled: it is being killed. */
  | { type: 'failed' }
  /** The failed successor and its process tree are gone. */
  | { type: 'killed' };

/**
 * Next state for an event; an event that does not apply in a state leaves it
 * unchanged (a `ready` that arrives while a timed-out successor is being killed
 * is such an event).
 */
export function transition(state: HandoffState, event: HandoffEvent): HandoffState {
  switch (event.type) {
    case 'trigger':
      return state === 'idle' ? 'spawning' : state;
    case 'spawnFailed':
      return state === 'spawning' ? 'idle' : state;
    case 'hello':
      return state === 'spawning' ? 'starting' : state;
    case 'ready':
      return state === 'spawning' || state === 'starting' ? 'handed-over' : state;
    case 'failed':
      return state === 'spawning' || state === 'starting' ? 'killing' : state;
    case 'killed':
      return state === 'killing' ? 'idle' : state;
  }
}

/** What `upgrade()` does in a state. */
export type TriggerVerdict = 'start' | 'busy' | 'handed-over';

/** Whether a trigger starts an upgrade. Fails to compile when a state is missing. */
export function triggerVerdict(state: HandoffState): TriggerVerdict {
  switch (state) {
    case 'idle':
      return 'start';
    case 'spawning':
    case 'starting':
    case 'killing':
      return 'busy';
    case 'handed-over':
      return 'handed-over';
  }
}

/** Whether a successor process exists that this process started and still watches. */
export function isUpgrading(state: HandoffState): boolean {
  return triggerVerdict(state) === 'busy';
}
