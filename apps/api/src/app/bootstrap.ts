import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Upgrader, type ListenTarget } from '@edu-agents/process-handoff';
import { cleanupOrphans, QcPool, rememberSingletons } from '@edu-agents/qc-chrome-pool';
import { InFlightRegistry, SHUTDOWN_DEFAULTS, ShutdownCoordinator, processShutdownDeps } from '@edu-agents/shutdown-state';
import type { INestApplication } from '@nestjs/common';
import express from 'express';
import type { Server } from 'node:http';
import { inheritedListenFd } from '../systemd/listen-fds';
import { createSdNotifier } from '../systemd/sd-notify';
import { AppModule } from './app.module';
import type { ApiConfig } from './config/api-config';
import { ConnectionMover } from './handoff/connection-mover';
import { HotHandoff } from './handoff/hot-handoff';
import { handoffLog } from './handoff/handoff-log';
import { takeOverState, type InheritedState } from './handoff/inherited-state';
import { ConnectionTracker } from './http/connection-tracker';
import { closeHttpServer, createHttpServer, messageClassesFor, stopAccepting } from './http/http-server';
import { jsonBody } from './http/json-body';
import { isQcWork, RequestGate } from './http/request-gate';
import { successorProxy, successorTarget } from './http/successor-proxy';
import { warmRequestPath, WARM_UP_ROUTES } from './http/warm-up';
import { collectGarbage } from './runtime/collect-garbage';
import { readV8Options, withFastTierUp } from './runtime/warm-tier-up';
import type { Logger } from './logging/logger';
import { nestLogger } from './logging/nest-logger';
import { logShutdownEvent } from './logging/shutdown-log';
import { qcPoolConfig } from './runtime/launch-qc-pool';
import { borrowChrome, lendChrome, offeredChrome, passOnChrome, receiveChrome, type ChromeOffer } from './handoff/chrome-take-over';
import { reportLifecycleToSystemd } from './runtime/drain-reporter';
import { removePidFile, writePidFile } from './runtime/pid-file';
import { evictForeignSignalHandlers, installSignalHandlers } from './runtime/signals';
import { guardStdio } from './runtime/stdio-guard';

/** At the latest this long after a handoff's switch, the old process closes its QC pool (no QC request of its own in flight). */
const RELEASE_AFTER_SWITCH_MS = 1_000;
/** A successor's warm-up of its request path never holds up its start longer than this. */
const WARM_UP_DEADLINE_MS = 3_000;

function untilNoConnections(connections: ConnectionTracker): Promise<void> {
  return new Promise((resolve) => {
    if (connections.count === 0) return resolve();
    const stop = connections.onClose(() => {
      if (connections.count > 0) return;
      stop();
      resolve();
    });
  });
}

/**
 * Starts the API. The upgrader comes first (it takes what a predecessor handed
 * over and keeps the start-up environment for a later successor), then signals
 * (a SIGTERM during start-up is honoured), the QC pool, Nest, and the HTTP
 * server behind the request gate; cleanup hooks are registered in shutdown order
 * (HTTP, QC pool, Nest, pid file). Once listening: pid file, systemd
 * (MAINPID= first in a successor, then READY=1), and the predecessor is told.
 * Everything after that is the coordinator's and the hot handoff's.
 */
export async function startApi(config: ApiConfig, logger: Logger, env: NodeJS.ProcessEnv): Promise<void> {
  const startedAt = Date.now();
  guardStdio();
  const upgrader = Upgrader.create({
    readyTimeoutMs: config.handoff.timeoutMs,
    successorNice: config.handoff.successorNice,
    successorEscapeMs: config.handoff.successorEscapeMs,
    successorIdle: config.handoff.successorIdle,
    successorHelpersIdleMs: config.handoff.helpersIdleMs,
    // No successor's process is forked where SIGHUP starts none (a container's main process).
    prepareSuccessor: config.handoff.enabled && config.handoff.prepareSuccessor,
    // Stopped while this process renders (QC's onRender below), continued by the kernel if it dies.
    startYield: config.handoff.enabled && config.handoff.startYield,
    retireYield: config.handoff.enabled && config.handoff.retireYield,
    // The other instances' renders count as this process's own (the rolling set-up's shared directory).
    yieldDir: config.handoff.enabled ? config.handoff.yieldDir : undefined,
    log: handoffLog(logger),
    // A failed successor is stopped, then this runs, then it is killed (defined below; called only during an upgrade).
    reclaim: (successorPid) => handoff.reclaim(successorPid),
  });
  // Read while the successor starts, for its warm-up (runtime/warm-tier-up.ts).
  const warmTierUp = upgrader.isSuccessor && config.handoff.warmRequests > 0 && config.handoff.warmTierUp;
  const v8Options = warmTierUp ? readV8Options() : undefined;
  const registry = new InFlightRegistry();
  const coordinator = new ShutdownCoordinator(
    registry,
    { timeoutMs: config.shutdownTimeoutMs, delayMs: config.shutdownDelayMs, hookTimeoutMs: SHUTDOWN_DEFAULTS.hookTimeoutMs },
    processShutdownDeps((event) => logShutdownEvent(logger, event)),
  );
  const notifier = createSdNotifier(env, { logger: { warn: (m) => logger.warn(m) } });
  const handoff = new HotHandoff({
    upgrader, coordinator, notifier, logger, enabled: config.handoff.enabled, lingerMs: config.shutdownTimeoutMs, pidFile: config.pidFile,
    retireAfterMs: config.handoff.retireAfterMs, retireIdle: config.handoff.retireIdle, retireYield: config.handoff.retireYield,
    // The killed successor's Chromium is gone with its process tree; its profile dirs remain.
    afterFailure: () => void (config.qc.enabled && cleanupOrphans(undefined, (message, fields) => logger.info(`qc: ${message}`, fields))),
  });
  const signalHandlers = installSignalHandlers(coordinator, handoff, logger);
  reportLifecycleToSystemd(coordinator, notifier);
  const fd = inheritedListenFd(env);
  logger.info('phase starting', { pid: process.pid, node: process.version, qc: config.qc.enabled, predecessorPid: upgrader.predecessorPid });

  // Cleanup hooks are registered before anything starts, so a SIGTERM during
  // start-up still closes what exists; they run in this order: the HTTP server
  // (nothing new reaches the pool), the QC pool, Nest, the pid file.
  const started: { server?: Server; app?: INestApplication } = {};
  // A successor's Chromium starts above its steady priority, and goes to it once the predecessor has exited (below).
  const successorChromeNice = upgrader.isSuccessor && config.qc.chromeSession === 'api' ? config.handoff.successorChromeNice : config.qc.chromeNice;
  // HANDOFF_TAKE_OVER_CHROME: a predecessor that started its Chromium with the same settings passes
  // it on at the switch (handoff/chrome-take-over.ts); the pool waits for it instead of launching.
  // HANDOFF_BORROW_CHROME: the successor borrows it while it starts instead, and only the pipe moves at the switch.
  const borrow = config.handoff.borrowChrome;
  const takeOver = config.qc.enabled && config.handoff.enabled && (config.handoff.takeOverChrome || borrow) && config.qc.chromeSession === 'api';
  const poolConfig = qcPoolConfig(config, logger, () => upgrader.yieldStart(), successorChromeNice);
  // At QC_CHROME_NICE, whatever a successor's Chromium starts at: what it runs at for good.
  const fingerprint = takeOver ? QcPool.chromeFingerprint({ ...poolConfig, chromeNice: config.qc.chromeNice }) : undefined;
  let awaitingChrome = false;
  if (upgrader.isSuccessor && fingerprint !== undefined) {
    const offer = offeredChrome(await upgrader.inheritedState(5_000), fingerprint, borrow);
    awaitingChrome = offer.ok;
    logger.info(!offer.ok ? `handoff: launching Chromium: ${offer.reason}`
      : borrow ? 'handoff: borrowing the predecessor\'s Chromium, with pages of its own; its pipe comes at the switch' : 'handoff: taking over the predecessor\'s Chromium at the switch');
  }
  const borrowing = async (pool: QcPool) => (await borrowChrome(pool, upgrader, logger), pool);
  const launching = !config.qc.enabled ? Promise.resolve(null)
    : awaitingChrome ? (borrow ? borrowing(QcPool.awaiting(poolConfig)) : Promise.resolve(QcPool.awaiting(poolConfig)))
      : QcPool.launch(poolConfig);
  coordinator.addHook({ name: 'http-server', run: () => (started.server ? closeHttpServer(started.server, 1_000) : undefined), timeoutMs: 3_000 });
  // After a handoff (HANDOFF_RETIRE_YIELD): waits until the successor renders nothing. Whichever
  // closes the pool first (this hook or releaseAfterSwitch below), it goes paced by it.
  const retirePace = () => (config.handoff.retireYield && upgrader.snapshot().state === 'handed-over' ? () => upgrader.untilSuccessorIdle() : undefined);
  // Each later step of a shutdown after a handoff waits so too; at once otherwise. The exit that
  // follows the last one cannot be stopped either.
  const betweenSuccessorRenders = async () => void (await retirePace()?.());
  coordinator.addHook({
    name: 'qc-pool',
    run: async () => void (await (await launching.catch(() => null))?.close({ deadlineMs: config.qc.closeTimeoutMs, pace: retirePace() })),
    timeoutMs: config.qc.closeTimeoutMs + 2_000,
  });
  coordinator.addHook({ name: 'nest', run: async () => (await betweenSuccessorRenders(), await started.app?.close()), timeoutMs: 2_000 });
  coordinator.addHook({ name: 'handoff', run: async () => (await betweenSuccessorRenders(), upgrader.close()) });
  if (config.pidFile) coordinator.addHook({ name: 'pid-file', run: () => removePidFile(config.pidFile as string) });

  const pool = await launching;
  // A predecessor's state (its QC result cache; where its socket came from)
  // arrives while our Chromium starts; a first process gets nothing.
  const inherited: InheritedState = takeOverState(await upgrader.inheritedState(5_000), pool, logger);
  const socketHeldBySystemd = fd !== undefined || inherited.socketHeldBySystemd;
  upgrader.provideState(() => ({ socketHeldBySystemd, qcCache: pool?.exportCache(), ...(pool && fingerprint !== undefined ? { chrome: { fingerprint, ...(borrow ? { lends: true } : {}) } satisfies ChromeOffer } : {}) }));
  const receiving = awaitingChrome && pool ? receiveChrome(pool, upgrader, logger, config.qc.jobTimeoutMs + 2_000, borrow) : undefined;
  const lending = pool && fingerprint !== undefined && borrow ? lendChrome(pool, upgrader, logger) : undefined;

  const expressApp = express();
  expressApp.disable('x-powered-by');
  expressApp.use('/qc', jsonBody(config.bodyLimitBytes));
  const app = await NestFactory.create(
    AppModule.forRoot({ config, coordinator, qc: pool, logger, handoff, startedAt }),
    new ExpressAdapter(expressApp),
    { bodyParser: false, logger: nestLogger(logger), abortOnError: false },
  );
  started.app = app;
  await app.init();

  const gate = new RequestGate(registry, coordinator, () => upgrader.snapshot().state === 'handed-over');
  const handler = gate.wrap(expressApp);
  const messages = messageClassesFor(expressApp);
  const httpServer = createHttpServer(handler, { ...config, messages });
  const connections = new ConnectionTracker(httpServer);
  started.server = httpServer;
  coordinator.onStateChange((state) => {
    if (state !== 'delaying' && state !== 'draining') return;
    gate.closeConnectionsOfInFlight();
    // After a handoff the old connections stay until each client's next request
    // was answered (with Connection: close) or the linger ended: cutting an idle
    // keep-alive connection races with a request the client is sending on it.
    const lingering = state === 'delaying' && upgrader.snapshot().state === 'handed-over';
    if (!lingering) httpServer.closeIdleConnections();
    // On a socket that systemd holds, new connections wait in its backlog for
    // the next instance instead of getting 503 (single-instance restarts).
    if (state === 'draining' && socketHeldBySystemd) void stopAccepting(httpServer);
  });
  evictForeignSignalHandlers(signalHandlers, logger);
  if (coordinator.state !== 'starting') return; // a signal arrived during start-up: the coordinator is cleaning up
  // A new Chromium goes on working for a while after its pages are ready. A successor lets that
  // work end here, at the start-up's lower priority, rather than beside its predecessor's clients
  // once it listens at theirs (tools/bench/README.md, "Chromium's after-start work").
  if (upgrader.isSuccessor && pool && !awaitingChrome && config.handoff.settleMs > 0) {
    const settled = await pool.untilQuiet({ deadlineMs: config.handoff.settleMs });
    logger.info(settled.quiet ? 'handoff: Chromium is quiet' : `handoff: Chromium still busy after ${config.handoff.settleMs} ms; listening anyway`, { ...settled, waitedMs: Math.round(settled.waitedMs) });
    if (coordinator.state !== 'starting') return;
  }
  // A successor takes its predecessor's whole load at once: it runs its request path
  // before it listens (still at the start-up's priority), not on the first clients.
  if (upgrader.isSuccessor && config.handoff.warmRequests > 0) {
    const warmUp = () => warmRequestPath(handler, { requests: config.handoff.warmRequests, connections: 4, routes: WARM_UP_ROUTES, deadlineMs: WARM_UP_DEADLINE_MS, messages });
    const { result: warm, tierUp } = v8Options === undefined
      ? { result: await warmUp(), tierUp: 'V8\'s own (HANDOFF_WARM_TIER_UP=false)' }
      : await withFastTierUp(warmUp, { v8Options: () => v8Options });
    logger.info('handoff: warmed the request path', { ...warm, tierUp });
    if (coordinator.state !== 'starting') return;
  }
  // Synchronous: no signal can change the coordinator's state meanwhile.
  if (upgrader.isSuccessor && config.handoff.collectGarbage) logger.info('handoff: collected garbage before listening', { ...collectGarbage() });

  const target: ListenTarget = fd === undefined ? { port: config.port, host: config.host } : { fd };
  const address = await upgrader.listen('http', httpServer, target);
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  const inheritedSocket = fd !== undefined || upgrader.isSuccessor;
  if (config.logFormat === 'json') logger.info('listening', { url, port: address.port, host: address.address, inherited: inheritedSocket });
  else logger.info(`listening on ${url}`, { port: address.port, inherited: inheritedSocket });
  handoff.attach({
    stopAccepting: () => stopAccepting(httpServer),
    connections,
    // QC work goes to the successor, so this process's Chromium takes no new job and goes soon.
    // Everything else is answered here, on the warm process it reached: passing a request on at
    // the switch, while both processes are busiest, made it the restart's slowest
    // (tools/bench/README.md, "The requests passed on at the switch").
    // HANDOFF_TAKE_OVER_CHROME: the successor goes on with this process's Chromium and its warm pages.
    ...(pool && fingerprint !== undefined ? {
      passOnChrome: () => passOnChrome(pool, upgrader, () => gate.whenNoLocalQc(), logger, lending?.hold).then(() => undefined),
    } : {}),
    forwardToSuccessor: () => gate.forwardTo(successorProxy(successorTarget(address), (error) => logger.warn('handed over: a request passed to the successor failed', { error: error.message })), isQcWork),
    moveConnections: () => {
      gate.keepConnectionsOpen(true);
      new ConnectionMover({
        server: httpServer, sockets: () => connections.list(), openResponses: () => gate.openResponses(), logger,
        handOver: (socket) => upgrader.handOver('http', socket),
        // As before connections could move: each one's next response closes it, idle ones at the linger's end.
        onUnavailable: () => {
          gate.keepConnectionsOpen(false);
          gate.closeConnectionsOfInFlight();
        },
      }).start();
    },
    // While a successor starts (at SCHED_IDLE in this process's group), this process's Chromium may
    // run at HANDOFF_CHROME_NICE instead of QC_CHROME_NICE, and goes back afterwards.
    whileSuccessorStarts: () => {
      const during = config.handoff.chromeNice;
      if (!pool || during === config.qc.chromeNice) return () => undefined;
      const raised = pool.reniceBrowsers(during);
      logger.info(`handoff: this process's Chromium at nice ${during} while the successor starts`, { ...raised });
      return () => {
        const back = pool.reniceBrowsers(config.qc.chromeNice);
        if (back.refused > 0) logger.warn(`handoff: could not set every Chromium thread back to nice ${config.qc.chromeNice}`, { ...back });
      };
    },
    // Jobs of our own finish on our Chromium; then it goes, long before an old connection that
    // cannot move closes. Not at the switch itself: tearing Chromium down then delays the requests
    // and the connections on their way to the successor (measured), and once every connection
    // moved the ordinary shutdown closes the pool anyway.
    releaseAfterSwitch: async () => {
      if (!pool) return;
      await Promise.race([untilNoConnections(connections), new Promise((resolve) => setTimeout(resolve, RELEASE_AFTER_SWITCH_MS).unref())]);
      await gate.whenNoLocalQc();
      // No render of ours needs it any more. With HANDOFF_RETIRE_YIELD its processes go one at a
      // time, each between the successor's renders, which the successor reports since the
      // retirement began (HotHandoff; tools/bench/README.md, "A retirement paced by the successor's work").
      const { paced } = await pool.close({ deadlineMs: config.qc.closeTimeoutMs, pace: retirePace() });
      if (paced) logger.info(`handed over: let Chromium go one process at a time between the successor's renders (${paced.processes} processes, waited ${paced.waitedMs} ms for renders)`, { ...paced });
    },
  });

  // The predecessor's Chromium singleton directories, read while it lives: killed, it leaves its
  // Chromium to shut itself down, which unlinks them from its profile before it removes them.
  const qcPredecessor = config.qc.enabled ? upgrader.predecessorPid : undefined;
  const predecessorSingletons = qcPredecessor === undefined ? [] : rememberSingletons(qcPredecessor);
  if (config.pidFile) writePidFile(config.pidFile);
  if (upgrader.isSuccessor) notifier.mainPid(process.pid);
  coordinator.markStarted();
  await notifier.flush();
  await upgrader.ready();
  receiving?.armFallback(upgrader.predecessorGone());
  // The renders beside the old process's retirement are what the higher priority was for.
  if (pool && successorChromeNice !== config.qc.chromeNice) {
    void upgrader.predecessorGone().then(() => {
      const lowered = pool.setChromeNice(config.qc.chromeNice);
      const say = lowered.refused > 0 ? 'warn' : 'info';
      logger[say](`handoff: the predecessor has exited; Chromium from nice ${successorChromeNice} to QC_CHROME_NICE ${config.qc.chromeNice}`, { ...lowered });
    });
  }
  // A predecessor killed before or after the switch (SIGKILL, OOM) leaves its Chromium
  // profile behind, and its Chromium if it outlived the pipe: both go once it is gone.
  if (qcPredecessor !== undefined) {
    void upgrader
      .predecessorGone()
      .then(() => cleanupOrphans(undefined, (message, fields) => logger.info(`qc: ${message}`, fields), predecessorSingletons))
      .catch((error: Error) => logger.warn(`qc: could not clean up what the predecessor left: ${error.message}`));
  }
}
