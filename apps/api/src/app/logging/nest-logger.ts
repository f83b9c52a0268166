import type { LoggerService } from '@nestjs/common';
import type { Logger } from './logger';

/** Routes Nest's own logging into our one-line logger; its start-up chatter is debug. */
export function nestLogger(logger: Logger): LoggerService {
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    log: (message, context?: string) => logger.debug(text(message), { context }),
    debug: (message, context?: string) => logger.debug(text(message), { context }),
    verbose: (message, context?: string) => logger.debug(text(message), { context }),
    warn: (message, context?: string) => logger.warn(text(message), { context }),
    error: (message, stack?: string, context?: string) => logger.error(text(message), { context, stack }),
  };
}
