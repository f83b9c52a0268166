import type { HandoffFacts } from './handoff.types';

/** What an instance's health endpoint says about it, reduced to one word. */
export type HealthState = 'ready' | 'starting' | 'draining' | 'down' | 'unreachable';

/** The API's shutdown phases as they appear in `details.shutdown.phase`. */
export type ShutdownPhase = 'starting' | 'ready' | 'draining' | 'stopped';

/** One answer of a health endpoint, classified. */
export interface HealthResult {
  /** The classification the CLI acts on. */
  readonly state: HealthState;
  /** HTTP status, or `undefined` when no response arrived. */
  readonly httpStatus: number | undefined;
  /** The parsed JSON body, or the raw text when it was not JSON, or `undefined`. */
  readonly body: unknown;
  /** Time from request start to the full body (or to the failure). */
  readonly latencyMs: number;
  /** `details.shutdown.phase` (or `details.process.phase` on /health/live) when present. */
  readonly phase: ShutdownPhase | undefined;
  /** Process id reported by the instance, when present. Proves a restart made a new process. */
  readonly pid: number | undefined;
  /**
   * The pid file the instance writes itself (an absolute path), `null` when it writes
   * none, absent when its health body does not say (an API without that field).
   */
  readonly pidFile?: string | null;
  /** Requests in flight reported by the instance, when present. */
  readonly inFlight: number | undefined;
  /** Why the state is `down` or `unreachable`, in words. */
  readonly reason: string | undefined;
  /** `details.handoff` when the body has it (an API with hot handoff); absent otherwise. */
  readonly handoff?: HandoffFacts;
}

/**
 * What `check` asks of a fetch: one GET, then the status and the body's text. `globalThis.fetch`
 * is one; so is a lighter transport over `node:http`. A failure rejects, with the system error's
 * `code` in its `cause`, or with the signal's reason once the signal fired.
 */
export type HealthFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{ readonly status: number; text(): Promise<string> }>;

/** Side effects `check` needs; all optional, defaulting to the real ones. */
export interface CheckOptions {
  /** Per-request timeout; a slower answer counts as `unreachable`. Default 2000 ms. */
  readonly timeoutMs?: number;
  /** The transport; default `globalThis.fetch` (tests pass a fake). */
  readonly fetch?: HealthFetch;
  /** Injected monotonic clock in ms. */
  readonly now?: () => number;
}
