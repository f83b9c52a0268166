import { QcPool, QC_POOL_DEFAULTS, type QcPoolConfig, type QcReport } from '../src/index';
import { chromeProcsOf, listProcs } from '../src/lib/proc-tree';

/**
 * Set (to any value) by take-over-guards.chrome.spec.ts: {@link launchTestPool} returns a pool that
 * took over another pool's running browser and warm pages, and {@link handOverIfTakingOver} passes
 * a pool's browser on to a new one, so that the guard suites run on pages taken over.
 */
export const TAKE_OVER_ENV = 'QC_TEST_TAKE_OVER';

/** A pool with small test-friendly bounds; close it in afterEach/afterAll. */
export async function launchTestPool(overrides: Partial<QcPoolConfig> = {}): Promise<QcPool> {
  const pool = await QcPool.launch({ ...QC_POOL_DEFAULTS, browsers: 1, pagesPerBrowser: 2, jobTimeoutMs: 20_000, ...overrides });
  return handOverIfTakingOver(pool, overrides);
}

/**
 * Under {@link TAKE_OVER_ENV}: `pool` lets go of its browsers and a new pool of the same settings
 * goes on with them (QcPool.letGo / adopt), as a handoff's successor does; otherwise `pool` itself.
 */
export async function handOverIfTakingOver(pool: QcPool, overrides: Partial<QcPoolConfig> = {}): Promise<QcPool> {
  if (process.env[TAKE_OVER_ENV] === undefined) return pool;
  const browsers = await pool.letGo();
  const next = QcPool.awaiting({ ...QC_POOL_DEFAULTS, browsers: 1, pagesPerBrowser: 2, jobTimeoutMs: 20_000, ...overrides });
  const adopted = await next.adopt(browsers);
  if (adopted !== browsers.length) throw new Error(`took over ${adopted} of ${browsers.length} browsers`);
  return next;
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
