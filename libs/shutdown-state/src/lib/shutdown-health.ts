import type { ShutdownSnapshot } from './shutdown-coordinator';
import type { ShutdownPhase } from './shutdown-state';

/**
 * What a readiness check reports of the shutdown, for any framework to wrap
 * (a terminus `HealthIndicator`, a plain `/health` route): `up` only in the
 * `ready` phase, and the facts people and restart tools follow during a drain.
 */
export interface ShutdownHealth {
  status: 'up' | 'down';
  phase: ShutdownPhase;
  inFlight: number;
  oldestInFlightMs: number;
  drainingSince: string | null;
  deadline: string | null;
  pid: number;
}

/**
 * The readiness of a service from its coordinator. Pure: the caller passes its pid.
 *
 * @example
 * const health = shutdownHealth(coordinator, process.pid);
 * res.statusCode = health.status === 'up' ? 200 : 503;
 * res.end(JSON.stringify({ status: health.status === 'up' ? 'ok' : 'error', details: { shutdown: health } }));
 */
export function shutdownHealth(coordinator: { snapshot(): ShutdownSnapshot }, pid: number): ShutdownHealth {
  const s = coordinator.snapshot();
  return {
    status: s.ready ? 'up' : 'down',
    phase: s.phase,
    inFlight: s.inFlight,
    oldestInFlightMs: s.oldestInFlightMs,
    drainingSince: s.drainingSince,
    deadline: s.deadline,
    pid,
  };
}
