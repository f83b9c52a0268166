import type { ShutdownCoordinator, StopSignal } from '@edu-agents/shutdown-state';
import type { Logger } from '../logging/logger';

const STOP_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT'];

/**
 * Makes the coordinator the one owner of SIGTERM and SIGINT. Nest's shutdown
 * hooks are never enabled and puppeteer's handlers are off, but a library may
 * still add one: {@link evictForeignSignalHandlers} removes those and says so.
 */
export function installSignalHandlers(coordinator: ShutdownCoordinator): Map<StopSignal, () => void> {
  const handlers = new Map<StopSignal, () => void>();
  for (const signal of STOP_SIGNALS) {
    const handler = () => coordinator.handleSignal(signal);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return handlers;
}

export function evictForeignSignalHandlers(ours: Map<StopSignal, () => void>, logger: Logger): void {
  for (const [signal, handler] of ours) {
    for (const listener of process.listeners(signal)) {
      if (listener === handler) continue;
      process.off(signal, listener);
      logger.warn(`removed a foreign ${signal} handler: the shutdown coordinator owns this signal`, { handler: listener.name || 'anonymous' });
    }
  }
}
