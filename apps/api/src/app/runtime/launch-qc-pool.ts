import { QC_POOL_DEFAULTS, type QcPoolConfig } from '@edu-agents/qc-chrome-pool';
import type { ApiConfig } from '../config/api-config';
import type { Logger } from '../logging/logger';

/**
 * The QC pool's configuration from the API's. `chromeNice` (default QC_CHROME_NICE): what its Chromium
 * starts at (a handoff's successor's, until its predecessor exited).
 */
export function qcPoolConfig(config: ApiConfig, logger: Logger, onRender?: () => () => void, chromeNice = config.qc.chromeNice): QcPoolConfig {
  const qc = config.qc;
  return {
    ...QC_POOL_DEFAULTS,
    chromePath: qc.chromePath,
    browsers: qc.browsers,
    pagesPerBrowser: qc.pagesPerBrowser,
    queueMax: qc.queueMax,
    acquireTimeoutMs: qc.acquireTimeoutMs,
    jobTimeoutMs: qc.jobTimeoutMs,
    cacheMaxEntries: qc.cacheMaxEntries,
    cacheMaxBytes: qc.cacheMaxBytes,
    isolation: qc.isolation,
    closeTimeoutMs: qc.closeTimeoutMs,
    warmUpRender: qc.warmUpRender,
    chromeNice,
    chromeSession: qc.chromeSession,
    chromeEscapeMs: qc.chromeEscapeMs,
    log: (level, message, fields) => logger[level](`qc: ${message}`, fields),
    onRender,
  };
}
