import type { QcPool } from '../index';
import { job, launchTestPool } from '../../test-support/chrome-test-helpers';

const GIF = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==';

const DEFECTS = `<!doctype html><html><head><title>Fractions</title></head><body>
<h1>Fractions</h1>
<img src="missing.png" alt="a pie chart">
<img src="${GIF}">
<table id="wide-table" style="width:1600px"><tr><td>too wide</td></tr></table>
<script>console.error('lesson script failed');</script>
<script>throw new Error('quiz init failed');</script>
</body></html>`;

const CLEAN = `<!doctype html><html><head><title>Photosynthesis</title></head><body>
<h1>Photosynthesis</h1><p>Plants turn light into sugar.</p>
<img src="${GIF}" alt="a leaf"><img src="${GIF}" alt="">
<table style="width:600px"><tr><th>Input</th><th>Output</th></tr><tr><td>CO2</td><td>O2</td></tr></table>
<script>document.querySelector('p').dataset.ready = String(1 + 1); console.log('fine');</script>
</body></html>`;

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
    expect(report.failedRequests).toEqual([
      { url: expect.stringMatching(/^https:\/\/j\d+\.qc\.invalid\/missing\.png$/), errorText: expect.stringContaining('404') },
    ]);
    expect(report.brokenImages).toEqual([{ src: 'missing.png' }]);
    expect(report.imagesMissingAlt).toEqual([{ src: GIF }]);
    expect(report.overflowingElements).toEqual([{ selector: '#wide-table', right: expect.any(Number), viewportWidth: 1280 }]);
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
    const started = performance.now();
    const second = await pool.check(job(html));
    expect(performance.now() - started).toBeLessThan(50); // no Chrome round trip (a render takes 100+ ms)
    expect(first.cached).toBe(false);
    expect(second).toEqual({ ...first, cached: true });
    expect(pool.stats().cache.hits).toBeGreaterThanOrEqual(1);
  });

  it('measures overflow against the requested viewport width', async () => {
    const report = await pool.check({ ...job('<div id="box" style="width:500px">x</div>'), viewport: { width: 400, height: 600 } });
    expect(report.overflowingElements).toEqual([{ selector: '#box', right: expect.any(Number), viewportWidth: 400 }]);
  });

  it('returns a PNG of the viewport for a screenshot job', async () => {
    const png = await pool.screenshot(job('<h1 style="color:red">Hello</h1>'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(png.readUInt32BE(20)).toBe(800); // IHDR height
  });
});
