export { QcPool, type LentBrowser, type QcCloseSummary } from './lib/qc-pool';
export { discardBrowser, type AdoptableBrowser } from './lib/worker-set';
export type { ChromeHandover, ChromeLoan } from './lib/chrome-launcher';
export type { ChromePace, PacedTeardown } from './lib/chrome-teardown';
export { QUIET_DEFAULTS, type QuietOptions, type QuietResult } from './lib/browser-quiet';
export {
  QC_POOL_DEFAULTS,
  CHROME_CANDIDATES,
  resolveChromePath,
  validateQcPoolConfig,
  type QcIsolation,
  type QcLogLevel,
  type QcPoolConfig,
} from './lib/qc-config';
export { parseQcJobInput, parseQcScreenshotInput, QC_DEFAULT_VIEWPORT, type QcJobInput } from './lib/qc-input';
export type { ElementBox, QcReport } from './lib/qc-report.types';
export type { QcPoolStats } from './lib/pool-stats';
export { MAX_NICE, reniceTrees, type ChromePriority, type ChromeSession, type ReniceResult } from './lib/chrome-priority';
export {
  QcError,
  QcInputError,
  QueueFullError,
  JobTimeoutError,
  PoolClosedError,
  BrowserCrashedError,
  AcquireTimeoutError,
  JobCancelledError,
  ContentNavigatedError,
} from './lib/qc-errors';
export { PROFILE_PREFIX, cleanupOrphans, rememberSingletons, type OrphanCleanupDeps, type OrphanCleanupResult, type RememberedSingleton } from './lib/orphan-cleanup';
export { QC_CACHE_FORMAT, type QcCacheExport, type QcCacheImport } from './lib/result-cache';
export { listProcs, listProcsAsync, readProc, descendantsOf, CLOCK_TICKS_PER_SEC, type ProcInfo } from './lib/proc-tree';
export { runDomChecks, type DomCheckResult } from './lib/dom-checks';
export { ANNOTATION_COLORS } from './lib/annotation.html';
export type { DomFindings } from './lib/qc-report.types';
