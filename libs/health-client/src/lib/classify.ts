import type { HealthResult, HealthState, ShutdownPhase } from './health.types';
import { finiteNumber, record } from './json-shape';

const PHASES: readonly ShutdownPhase[] = ['starting', 'ready', 'draining', 'stopped'];

/** Phase, pid, in-flight count and pid file as a health body states them. */
export type HealthFacts = Pick<HealthResult, 'phase' | 'pid' | 'inFlight'> & { pidFile?: string | null };

/**
 * Reads phase, pid, in-flight count and pid file from a terminus-shaped body
 * (`details.shutdown` on /health, `details.process` on /health/live).
 */
export function extractFacts(body: unknown): HealthFacts {
  const details = record(record(body)?.['details']);
  const entry = record(details?.['shutdown']) ?? record(details?.['process']);
  const phase = entry?.['phase'];
  const pidFile = entry?.['pidFile'];
  return {
    phase: PHASES.includes(phase as ShutdownPhase) ? (phase as ShutdownPhase) : undefined,
    pid: finiteNumber(entry?.['pid']),
    inFlight: finiteNumber(entry?.['inFlight']),
    ...(pidFile === null || (typeof pidFile === 'string' && pidFile.length > 0) ? { pidFile } : {}),
  };
}

/**
 * Maps an HTTP answer to a {@link HealthState}:
 * phase `draining`/`stopped` -> draining (whatever the status); phase `starting` -> starting;
 * 200 with phase `ready` -> ready; anything else (another non-200, no phase, a body that
 * is not the health shape) -> down.
 */
export function classify(httpStatus: number, body: unknown): { state: HealthState; reason: string | undefined } & HealthFacts {
  const facts = extractFacts(body);
  let state: HealthState;
  let reason: string | undefined;
  switch (facts.phase) {
    case 'draining':
    case 'stopped':
      state = 'draining';
      break;
    case 'starting':
      state = 'starting';
      break;
    case 'ready':
      state = httpStatus === 200 ? 'ready' : 'down';
      reason = httpStatus === 200 ? undefined : `HTTP ${httpStatus} while phase is ready (a required part is down: ${downParts(body)})`;
      break;
    case undefined:
      state = 'down';
      reason = `HTTP ${httpStatus} without a shutdown phase in the body (is this the API's /health URL?)`;
      break;
  }
  return { state, reason, ...facts };
}

function downParts(body: unknown): string {
  const error = record(record(body)?.['error']);
  const names = error ? Object.keys(error) : [];
  return names.length ? names.join(', ') : 'unknown';
}
