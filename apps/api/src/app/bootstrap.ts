import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { QcPool, QC_POOL_DEFAULTS } from '@edu-agents/qc-chrome-pool';
import { InFlightRegistry, SHUTDOWN_DEFAULTS, ShutdownCoordinator, processShutdownDeps } from '@edu-agents/shutdown-state';
import type { INestApplication } from '@nestjs/common';
import express from 'express';
import type { Server } from 'node:http';
import { inheritedListenFd } from '../systemd/listen-fds';
import { createSdNotifier } from '../systemd/sd-notify';
import { AppModule } from './app.module';
import type { ApiConfig } from './config/api-config';
import { closeHttpServer, createHttpServer, listen, stopAccepting, type ListenTarget } from './http/http-server';
import { jsonBody } from './http/json-body';
import { RequestGate } from './http/request-gate';
import type { Logger } from './logging/logger';
import { nestLogger } from './logging/nest-logger';
import { logShutdownEvent } from './logging/shutdown-log';
import { reportLifecycleToSystemd } from './runtime/drain-reporter';
import { removePidFile, writePidFile } from './runtime/pid-file';
import { evictForeignSignalHandlers, installSignalHandlers } from './runtime/signals';

/**
 * Starts the API: signals first (a SIGTERM during start-up is honoured), then
 * the QC pool, Nest, and the HTTP server behind the request gate; registers the
 * cleanup hooks in shutdown order (HTTP, QC pool, Nest, pid file); then reports
 * ready. Everything after that is the coordinator's.
 */
export async function startApi(config: ApiConfig, logger: Logger, env: NodeJS.ProcessEnv): Promise<void> {
  const startedAt = Date.now();
  const registry = new InFlightRegistry();
  const coordinator = new ShutdownCoordinator(
    registry,
    { timeoutMs: config.shutdownTimeoutMs, delayMs: config.shutdownDelayMs, hookTimeoutMs: SHUTDOWN_DEFAULTS.hookTimeoutMs },
    processShutdownDeps((event) => logShutdownEvent(logger, event)),
  );
  const signalHandlers = installSignalHandlers(coordinator);
  const notifier = createSdNotifier(env, { logger: { warn: (m) => logger.warn(m) } });
  reportLifecycleToSystemd(coordinator, notifier);
  const fd = inheritedListenFd(env);
  logger.info('phase starting', { pid: process.pid, node: process.version, qc: config.qc.enabled });

  // Cleanup hooks are registered before anything starts, so a SIGTERM during
  // start-up still closes what exists; they run in this order: the HTTP server
  // (nothing new reaches the pool), the QC pool, Nest, the pid file.
  const started: { server?: Server; app?: INestApplication } = {};
  const launching = config.qc.enabled ? launchPool(config, logger) : Promise.resolve(null);
  coordinator.addHook({ name: 'http-server', run: () => (started.server ? closeHttpServer(started.server, 1_000) : undefined), timeoutMs: 3_000 });
  coordinator.addHook({
    name: 'qc-pool',
    run: async () => void (await (await launching.catch(() => null))?.close({ deadlineMs: config.qc.closeTimeoutMs })),
    timeoutMs: config.qc.closeTimeoutMs + 2_000,
  });
  coordinator.addHook({ name: 'nest', run: () => started.app?.close(), timeoutMs: 2_000 });
  if (config.pidFile) coordinator.addHook({ name: 'pid-file', run: () => removePidFile(config.pidFile as string) });

  const pool = await launching;
  const expressApp = express();
  expressApp.disable('x-powered-by');
  expressApp.use('/qc', jsonBody(config.bodyLimitBytes));
  const app = await NestFactory.create(
    AppModule.forRoot({ config, coordinator, qc: pool, logger, startedAt }),
    new ExpressAdapter(expressApp),
    { bodyParser: false, logger: nestLogger(logger), abortOnError: false },
  );
  started.app = app;
  await app.init();

  const gate = new RequestGate(registry, coordinator);
  const httpServer = createHttpServer(gate.wrap(expressApp), config);
  started.server = httpServer;
  coordinator.onStateChange((state) => {
    if (state !== 'delaying' && state !== 'draining') return;
    gate.closeConnectionsOfInFlight();
    httpServer.closeIdleConnections();
    // On a socket inherited from systemd, new connections wait in the kernel
    // backlog for the next instance instead of getting 503 (single-instance restarts).
    if (state === 'draining' && fd !== undefined) void stopAccepting(httpServer);
  });
  evictForeignSignalHandlers(signalHandlers, logger);
  if (coordinator.state !== 'starting') return; // a signal arrived during start-up: the coordinator is cleaning up

  const target: ListenTarget = fd === undefined ? { port: config.port, host: config.host } : { fd };
  const address = await listen(httpServer, target);
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  if (config.logFormat === 'json') logger.info('listening', { url, port: address.port, host: address.address, inherited: fd !== undefined });
  else logger.info(`listening on ${url}`, { port: address.port, inherited: fd !== undefined });
  if (config.pidFile) writePidFile(config.pidFile);
  coordinator.markStarted();
}

async function launchPool(config: ApiConfig, logger: Logger): Promise<QcPool> {
  const qc = config.qc;
  return QcPool.launch({
    ...QC_POOL_DEFAULTS,
    chromePath: qc.chromePath,
    browsers: qc.browsers,
    pagesPerBrowser: qc.pagesPerBrowser,
    queueMax: qc.queueMax,
    jobTimeoutMs: qc.jobTimeoutMs,
    cacheMaxEntries: qc.cacheMaxEntries,
    cacheMaxBytes: qc.cacheMaxBytes,
    isolation: qc.isolation,
    closeTimeoutMs: qc.closeTimeoutMs,
    log: (level, message, fields) => logger[level](`qc: ${message}`, fields),
  });
}
