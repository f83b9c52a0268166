import { QcPool, QC_POOL_DEFAULTS, type QcPoolConfig, type QcReport } from '../src/index';
import { chromeProcsOf, listProcs } from '../src/lib/proc-tree';

/**
 * Set by take-over-guards.chrome.spec.ts (`adopt`) and borrow-guards.chrome.spec.ts (`borrow`):
 * {@link launchTestPool} returns a pool that went on with another pool's running browser, and
 * {@link handOverIfTakingOver} passes a pool's browser on to a new one, so that the guard suites
 * run on pages taken over (`adopt`: the old pool's warm pages, QcPool.letGo / adopt) or on a
 * borrower's own pages after the pipe moved (`borrow`: QcPool.lend / borrow / takePipes).
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
  const mode = process.env[TAKE_OVER_ENV];
  if (mode === undefined) return pool;
  const next = QcPool.awaiting({ ...QC_POOL_DEFAULTS, browsers: 1, pagesPerBrowser: 2, jobTimeoutMs: 20_000, ...overrides });
  if (mode === 'borrow') return borrowFrom(pool, next);
  const browsers = await pool.letGo();
  const adopted = await next.adopt(browsers);
  if (adopted !== browsers.length) throw new Error(`took over ${adopted} of ${browsers.length} browsers`);
  return next;
}

/** `next` borrows `lender`'s browsers through an in-process relay, takes their pipes, and the lender is closed: a handoff's successor with HANDOFF_BORROW_CHROME after its switch. */
async function borrowFrom(lender: QcPool, next: QcPool): Promise<QcPool> {
  const later = (deliver: () => void) => void setImmediate(deliver);
  const loans = await lender.lend((index, batch) => later(() => next.fromLender(index, structuredClone(batch))));
  const borrowed = await next.borrow(loans, (index, batch) => later(() => lender.fromBorrower(index, structuredClone(batch))));
  if (borrowed !== loans.length) throw new Error(`borrowed ${borrowed} of ${loans.length} browsers`);
  const browsers = await lender.letGo(async () => next.holdBorrowed());
  const taken = await next.takePipes(browsers);
  if (taken !== browsers.length) throw new Error(`took the pipes of ${taken} of ${browsers.length} browsers`);
  await lender.close({ deadlineMs: 1_000 });
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

/**
 * Registers the guard suites (the network guard, the sockets, navigation, and what one job leaves
 * the next) again under `title`, each on a pool that went on with another pool's browser in `mode`
 * (see {@link TAKE_OVER_ENV}). Call it at the top of a spec file: Jest gives each file its own
 * modules, so the suites register once per file.
 */
export function guardSuitesAfterHandOver(mode: 'adopt' | 'borrow', title: string): void {
  process.env[TAKE_OVER_ENV] = mode;
  describe(title, () => {
    afterAll(() => {
      delete process.env[TAKE_OVER_ENV];
    });
    require('../src/lib/network-guard.chrome.spec');
    require('../src/lib/network-guard-sockets.chrome.spec');
    require('../src/lib/navigation.chrome.spec');
    require('../src/lib/isolation.chrome.spec');
  });
}
