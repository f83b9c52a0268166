import { QcPool, QC_POOL_DEFAULTS, type QcPoolConfig, type QcReport } from '../src/index';
import { chromeProcsOf, listProcs } from '../src/lib/proc-tree';

/** A pool with small test-friendly bounds; close it in afterEach/afterAll. */
export function launchTestPool(overrides: Partial<QcPoolConfig> = {}): Promise<QcPool> {
  return QcPool.launch({ ...QC_POOL_DEFAULTS, browsers: 1, pagesPerBrowser: 2, jobTimeoutMs: 20_000, ...overrides });
}

export const VIEWPORT = { width: 1280, height: 800 };
/** A job; the timeout is generous because the machine running the suites is shared and small. */
export const job = (html: string, timeoutMs = 20_000) => ({ html, viewport: VIEWPORT, timeoutMs });

/** A report without what differs between two renders of the same content (the render time). */
export const contentOf = (report: QcReport): Omit<QcReport, 'renderTimeMs'> => {
  const { renderTimeMs, ...rest } = report;
  void renderTimeMs;
  return rest;
};

/** Polls `probe` until it returns true or the deadline passes; returns the last probe result. */
export async function waitFor(probe: () => boolean | Promise<boolean>, deadlineMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Live (non-zombie) processes using the given profile dir or in the given process group. */
export function liveChromeProcs(profileDir: string, pgid?: number): number[] {
  return chromeProcsOf(profileDir, pgid, listProcs()).map((p) => p.pid);
}
