import type { HandoffLog } from '@edu-agents/process-handoff';
import type { Logger } from '../logging/logger';

/** The upgrader's log lines in the API's own format, each prefixed `handoff:`. */
export function handoffLog(logger: Logger): HandoffLog {
  return (level, message, fields) => logger[level](`handoff: ${message}`, fields);
}
