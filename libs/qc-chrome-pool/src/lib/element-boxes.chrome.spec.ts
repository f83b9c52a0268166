import type { QcPool } from '../index';
import { job, launchTestPool } from '../../test-support/chrome-test-helpers';
import { GIF } from '../../test-support/fixtures';

// Element items carry where the element is drawn, in CSS pixels of the page (document
// coordinates): placed by CSS at known positions, they must come back exactly there.
const PLACED = `<!doctype html><html><head><style>
body { margin: 0; height: 3000px; font: 16px sans-serif }
.at { position: absolute; display: block }
</style></head><body>
<img class="at" src="missing.png" alt="chart" style="left:30px;top:400px;width:64px;height:48px">
<img class="at" src="${GIF}" style="left:300px;top:500px;width:20px;height:10px">
<div id="banner" class="at" style="left:100px;top:200px;width:1500px;height:50px">wide</div>
<script>window.scrollTo(0, 300)</script>
</body></html>`;

describe('element boxes (real Chromium)', () => {
  let pool: QcPool;
  beforeAll(async () => {
    pool = await launchTestPool();
  });
  afterAll(async () => {
    await pool.close();
  });

  it('gives each element item the box the page draws it in, in document coordinates even when scrolled', async () => {
    const report = await pool.check(job(PLACED));
    expect(report.brokenImages).toEqual([{ src: 'missing.png', box: { x: 30, y: 400, width: 64, height: 48 } }]);
    expect(report.imagesMissingAlt).toEqual([{ src: GIF, box: { x: 300, y: 500, width: 20, height: 10 } }]);
    expect(report.overflowingElements).toEqual([
      { selector: '#banner', right: 1600, viewportWidth: 1280, box: { x: 100, y: 200, width: 1500, height: 50 } },
    ]);
  });

  it('measures boxes in the requested viewport (the page reflows)', async () => {
    const report = await pool.check({
      ...job('<body style="margin:0"><div id="half" style="width:50%;height:10px"></div><div id="w" style="width:900px;height:20px"></div></body>'),
      viewport: { width: 800, height: 600 },
    });
    expect(report.overflowingElements).toEqual([{ selector: '#w', right: 900, viewportWidth: 800, box: { x: 0, y: 10, width: 900, height: 20 } }]);
  });
});
