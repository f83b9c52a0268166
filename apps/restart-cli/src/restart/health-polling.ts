import type { HealthResult, WaitForOptions } from '@edu-agents/health-client';
import type { RestartDeps, RestartSettings } from './restart.types';

/** The polling knobs every waiting step shares: backoff from `--interval` up to 1 s, `--check-timeout` per request. */
export function pollOptions(settings: RestartSettings, deps: RestartDeps): Pick<WaitForOptions, 'interval' | 'requestTimeoutMs' | 'now' | 'sleep'> {
  return { interval: { initialMs: settings.intervalMs, maxMs: Math.max(settings.intervalMs, 1000) }, requestTimeoutMs: settings.checkTimeoutMs, now: deps.now, sleep: deps.sleep };
}

/** One health answer in words: `ready`, `draining HTTP 503`, `unreachable, ECONNREFUSED`. */
export function describeHealth(r: HealthResult | undefined): string {
  if (!r) return 'unknown';
  return `${r.state}${r.httpStatus ? ` HTTP ${r.httpStatus}` : ''}${r.reason ? `, ${r.reason}` : ''}`;
}
