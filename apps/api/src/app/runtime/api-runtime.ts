import type { QcPool } from '@edu-agents/qc-chrome-pool';
import type { ShutdownCoordinator } from '@edu-agents/shutdown-state';
import type { ApiConfig } from '../config/api-config';
import type { HotHandoff } from '../handoff/hot-handoff';
import type { Logger } from '../logging/logger';

/**
 * What the Nest application is given by main: the edges own start-up, signals
 * and shutdown; Nest only routes requests to controllers that read this.
 */
export interface ApiRuntime {
  config: ApiConfig;
  coordinator: ShutdownCoordinator;
  /** The QC pool, or null when QC_ENABLED=false. */
  qc: QcPool | null;
  logger: Logger;
  /** The hot handoff: SIGHUP's owner, shown on /health. */
  handoff: HotHandoff;
  startedAt: number;
}

/** Injection token of the {@link ApiRuntime}. */
export const API_RUNTIME = Symbol('API_RUNTIME');
