import type { ShutdownCoordinator, StopSignal } from '@edu-agents/shutdown-state';
import type { HotHandoff } from '../handoff/hot-handoff';
import type { Logger } from '../logging/logger';
import { isTerminalHangup } from './terminal';

type OwnedSignal = StopSignal | 'SIGHUP';
const STOP_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT'];

/**
 * Makes the coordinator the one owner of SIGTERM and SIGINT, and the hot
 * handoff the owner of SIGHUP. A stop signal during a handoff first kills the
 * starting successor (with its Chromium), then the shutdown runs as usual. A
 * SIGHUP from a terminal that hung up stops the process instead. Nest's shutdown
 * hooks are never enabled and puppeteer's handlers are off, but a library may
 * still add one: {@link evictForeignSignalHandlers} removes those and says so.
 */
export function installSignalHandlers(coordinator: ShutdownCoordinator, handoff: HotHandoff, logger: Logger): Map<OwnedSignal, () => void> {
  const handlers = new Map<OwnedSignal, () => void>();
  for (const signal of STOP_SIGNALS) {
    handlers.set(signal, () => {
      coordinator.handleSignal(signal);
      void handoff.cancel(`received ${signal}`);
    });
  }
  handlers.set('SIGHUP', () => {
    if (!isTerminalHangup()) {
      void handoff.trigger('SIGHUP');
      return;
    }
    logger.warn('SIGHUP: the controlling terminal hung up; shutting down');
    coordinator.handleSignal('SIGTERM');
    void handoff.cancel('terminal hung up');
  });
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return handlers;
}

export function evictForeignSignalHandlers(ours: Map<OwnedSignal, () => void>, logger: Logger): void {
  for (const [signal, handler] of ours) {
    for (const listener of process.listeners(signal)) {
      if (listener === handler) continue;
      process.off(signal, listener);
      logger.warn(`removed a foreign ${signal} handler: this process owns it (shutdown coordinator, hot handoff)`, { handler: listener.name || 'anonymous' });
    }
  }
}
