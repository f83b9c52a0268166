import 'reflect-metadata';
import { reportStartFailure } from '@edu-agents/process-handoff';
import { startApi } from './app/bootstrap';
import { ConfigError } from './app/config/env-parsers';
import { resolveApiConfig } from './app/config/api-config';
import { createLogger } from './app/logging/logger';

/** Entry point: validate the configuration, then start. Exit codes: 2 bad configuration, 1 failed start. */
function main(): void {
  let config;
  try {
    config = resolveApiConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`edu-agents api: ${error.message}\n`);
    reportStartFailure(`edu-agents api: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(config.logFormat, config.logLevel);
  startApi(config, logger, process.env).catch((error: unknown) => {
    const err = error instanceof Error ? error : new Error(String(error));
    logger.error(`start failed: ${err.message}`, { cause: err.cause instanceof Error ? err.cause.message : undefined, stack: err.stack });
    process.exit(1);
  });
}

main();
