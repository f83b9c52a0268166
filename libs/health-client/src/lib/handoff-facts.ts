import type { HandoffAttempt, HandoffFacts, HandoffState } from './handoff.types';
import { finiteNumber, record } from './json-shape';

const STATES: readonly HandoffState[] = ['idle', 'spawning', 'starting', 'killing', 'handed-over'];

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Reads `details.handoff` from a terminus-shaped `/health` body. `undefined` when
 * the body has none (an API without hot handoff); `supported` is true only for a
 * literal `true`, so anything unexpected reads as "cannot hand over".
 */
export function extractHandoff(body: unknown): HandoffFacts | undefined {
  const entry = record(record(record(body)?.['details'])?.['handoff']);
  if (!entry) return undefined;
  const state = entry['state'];
  return {
    supported: entry['supported'] === true,
    enabled: entry['enabled'] === true,
    state: STATES.includes(state as HandoffState) ? (state as HandoffState) : undefined,
    attempts: finiteNumber(entry['attempts']) ?? 0,
    successorPid: finiteNumber(entry['successorPid']),
    predecessorPid: finiteNumber(entry['predecessorPid']),
    last: attempt(record(entry['last'])),
  };
}

function attempt(last: Record<string, unknown> | undefined): HandoffAttempt | undefined {
  if (!last || typeof last['ok'] !== 'boolean') return undefined;
  const exit = record(last['exit']);
  const output = Array.isArray(last['output']) ? last['output'].filter((l): l is string => typeof l === 'string') : [];
  return {
    ok: last['ok'],
    reason: text(last['reason']),
    message: text(last['message']),
    successorPid: finiteNumber(last['successorPid']),
    exit: exit && { code: finiteNumber(exit['code']) ?? null, signal: text(exit['signal']) ?? null },
    durationMs: finiteNumber(last['durationMs']),
    at: text(last['at']),
    output,
  };
}
