import type { QcPool } from '../index';
import { job, launchTestPool } from '../../test-support/chrome-test-helpers';
import { CLEAN, DEFECTS, GIF } from '../../test-support/fixtures';

describe('QC report on real Chromium', () => {
  let pool: QcPool;
  beforeAll(async () => {
    pool = await launchTestPool();
  });
  afterAll(async () => {
    await pool.close();
  });

  it('lists every known defect of the fixture page', async () => {
    const report = await pool.check(job(DEFECTS));
    expect(report.ok).toBe(false);
    expect(report.consoleErrors).toEqual([expect.objectContaining({ text: 'lesson script failed' })]);
    expect(report.pageErrors).toEqual([{ message: expect.stringContaining('quiz init failed') }]);
    // The job's own origin is written as content.qc.invalid: the same content, the same report.
    expect(report.failedRequests).toEqual([{ url: 'https://content.qc.invalid/missing.png', errorText: expect.stringContaining('404') }]);
    expect(report.brokenImages).toEqual([{ src: 'missing.png', box: expect.objectContaining({ width: 120, height: 80 }) }]);
    expect(report.imagesMissingAlt).toEqual([{ src: GIF, box: expect.objectContaining({ width: 60, height: 40 }) }]);
    expect(report.overflowingElements).toEqual([
      { selector: '#wide-table', right: expect.any(Number), viewportWidth: 1280, box: expect.objectContaining({ width: 1600 }) },
    ]);
    expect(report.overflowingElements[0].right).toBeGreaterThan(1280);
    expect(report.blockedRequests).toEqual([]);
    expect(report.cached).toBe(false);
    expect(report.viewport).toEqual({ width: 1280, height: 800 });
    expect(report.renderTimeMs).toBeGreaterThan(0);
  });

  it('reports nothing for a clean lesson page', async () => {
    const report = await pool.check(job(CLEAN));
    expect(report).toEqual(
      expect.objectContaining({
        ok: true,
        consoleErrors: [],
        pageErrors: [],
        blockedRequests: [],
        failedRequests: [],
        brokenImages: [],
        imagesMissingAlt: [],
        overflowingElements: [],
      }),
    );
  });

  it('answers the same content again from the cache, marked cached', async () => {
    const html = `${CLEAN}<!-- cache probe ${Date.now()} -->`;
    const first = await pool.check(job(html));
    const before = pool.stats();
    const second = await pool.check(job(html));
    expect(first.cached).toBe(false);
    expect(second).toEqual({ ...first, cached: true });
    expect(second).not.toBe(first);
    expect(pool.stats().jobs.done).toBe(before.jobs.done); // no render: Chrome was not asked
    expect(pool.stats().cache.hits).toBe(before.cache.hits + 1);
  });

  it('measures overflow against the requested viewport width', async () => {
    const report = await pool.check({ ...job('<div id="box" style="width:500px">x</div>'), viewport: { width: 400, height: 600 } });
    expect(report.overflowingElements).toEqual([{ selector: '#box', right: expect.any(Number), viewportWidth: 400, box: expect.any(Object) }]);
  });

  it('returns a PNG of the viewport for a screenshot job', async () => {
    const png = await pool.screenshot(job('<h1 style="color:red">Hello</h1>'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(png.readUInt32BE(20)).toBe(800); // IHDR height
  });
});
