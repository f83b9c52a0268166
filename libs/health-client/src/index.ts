export type { CheckOptions, HealthFetch, HealthResult, HealthState, ShutdownPhase } from './lib/health.types';
export type { HandoffAttempt, HandoffFacts, HandoffState } from './lib/handoff.types';
export { classify, extractFacts, type HealthFacts } from './lib/classify';
export { extractHandoff } from './lib/handoff-facts';
export { check, DEFAULT_CHECK_TIMEOUT_MS } from './lib/check';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './lib/backoff';
export { waitFor, type WaitForOptions, type WaitForOutcome } from './lib/wait-for';
