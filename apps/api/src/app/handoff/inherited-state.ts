import type { Logger } from '../logging/logger';

/** What a predecessor hands its successor (structured-clone data over the handoff channel). */
export interface HandedOverState {
  /** The listening socket is also held by systemd (a .socket unit): stop accepting at drain start. */
  socketHeldBySystemd: boolean;
  /** The predecessor's QC result cache, so that content checked before the handoff is a hit after it. */
  qcCache?: unknown;
}

/** What this process took over; a first process took over nothing. */
export interface InheritedState {
  socketHeldBySystemd: boolean;
}

/** The part of the QC pool a handoff needs: its result cache, out and in. */
export interface CacheHandover {
  importCache(snapshot: unknown): { imported: number; dropped: number; reason?: string };
}

function isHandedOverState(value: unknown): value is HandedOverState {
  return typeof value === 'object' && value !== null && typeof (value as HandedOverState).socketHeldBySystemd === 'boolean';
}

/**
 * Takes over a predecessor's state: imports its QC cache into this process's
 * pool (within the pool's own bounds; a cache of another format is dropped
 * with a reason) and says what was taken. Anything malformed is logged and
 * ignored: a successor never fails over a cache.
 */
export function takeOverState(state: unknown, cache: CacheHandover | null, logger: Logger): InheritedState {
  if (state === undefined) return { socketHeldBySystemd: false };
  if (!isHandedOverState(state)) {
    logger.warn('handoff: the predecessor handed over state of an unknown shape; starting with an empty cache');
    return { socketHeldBySystemd: false };
  }
  if (state.qcCache !== undefined && cache) {
    try {
      const result = cache.importCache(state.qcCache);
      logger.info('handoff: took over the QC result cache', { ...result });
    } catch (error) {
      logger.warn(`handoff: could not take over the QC result cache: ${(error as Error).message}`);
    }
  }
  return { socketHeldBySystemd: state.socketHeldBySystemd };
}
