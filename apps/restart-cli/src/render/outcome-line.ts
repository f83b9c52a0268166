import { formatDuration } from '../options/duration';
import type { InstanceOutcome } from '../restart/restart.types';

/** The result line of one instance that succeeded: `handed off 0 (pid file run/api.pid): pid 10 -> 11 in 4.2s`. */
export function outcomeLine(o: InstanceOutcome, withManager = true): string {
  const verb = o.mode === 'handoff' ? 'handed off' : 'restarted';
  const where = withManager ? ` (${o.manager})` : '';
  return `${verb} ${o.instance}${where}: pid ${o.oldPid ?? 'none'} -> ${o.newPid ?? '?'} in ${formatDuration(o.durationMs)}`;
}
