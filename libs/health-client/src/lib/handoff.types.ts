/** What the API's hot handoff is doing, as `details.handoff.state` names it. */
export type HandoffState = 'idle' | 'spawning' | 'starting' | 'killing' | 'handed-over';

/** The last handoff attempt of the answering process (`details.handoff.last`). */
export interface HandoffAttempt {
  readonly ok: boolean;
  /** Why it failed: `exited`, `timeout`, `spawn-failed`, `cancelled`, ... */
  readonly reason: string | undefined;
  /** The failure in one line. */
  readonly message: string | undefined;
  readonly successorPid: number | undefined;
  /** How a failed successor ended. */
  readonly exit: { readonly code: number | null; readonly signal: string | null } | undefined;
  readonly durationMs: number | undefined;
  /** When the attempt ended, ISO 8601; tells one attempt from the next. */
  readonly at: string | undefined;
  /** A failed successor's last lines of output. */
  readonly output: readonly string[];
}

/** `details.handoff` of `/health`: whether the instance can hand over to a successor and how it goes. */
export interface HandoffFacts {
  /** True only when the answering process can start a successor now (HANDOFF_ENABLED and the platform allows it). */
  readonly supported: boolean;
  /** HANDOFF_ENABLED as the process read it. */
  readonly enabled: boolean;
  /** `undefined` when the body names a state this client does not know. */
  readonly state: HandoffState | undefined;
  /** Handoffs this process started (refused triggers not counted). */
  readonly attempts: number;
  /** The successor being started, or the one that took over. */
  readonly successorPid: number | undefined;
  /** The process the answering one took over from. */
  readonly predecessorPid: number | undefined;
  readonly last: HandoffAttempt | undefined;
}
