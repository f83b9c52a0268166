import type { ShutdownLogEvent } from '@edu-agents/shutdown-state';
import type { Logger } from './logger';

/** Turns each shutdown event into exactly one log line. */
export function logShutdownEvent(logger: Logger, event: ShutdownLogEvent): void {
  switch (event.kind) {
    case 'phase':
      logger.info(event.state === event.phase ? `phase ${event.phase}` : `phase ${event.phase} (${event.state})`, { reason: event.reason, inFlight: event.inFlight, deadline: event.deadline ?? undefined });
      return;
    case 'signal':
      logger.info(`signal ${event.signal}`, { action: event.action, inFlight: event.inFlight });
      return;
    case 'cut-off':
      logger.warn(`cut off ${event.method} ${event.route}`, { ageMs: event.ageMs, reason: event.reason });
      return;
    case 'hook':
      (event.outcome === 'ok' ? logger.info : logger.error)(`cleanup ${event.name} ${event.outcome}`, {
        durationMs: event.durationMs,
        error: event.error,
      });
      return;
    case 'forced-exit':
      logger.error('forced exit on third interrupt', {
        inFlight: event.inFlight.length,
        requests: event.inFlight.map((e) => `${e.method} ${e.route}`),
      });
      return;
  }
}
