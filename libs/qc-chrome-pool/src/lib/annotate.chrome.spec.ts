import type { QcPool, QcReport } from '../index';
import { contentOf, job, launchTestPool } from '../../test-support/chrome-test-helpers';
import { DEFECTS } from '../../test-support/fixtures';
import { decodePng, samePixel, type Pixels } from '../../test-support/png-pixels';
import { ANNOTATION_COLORS, ANNOTATION_LAYOUT, annotationItems, badgeOrigin } from './annotation.html';

const VIEW = { x: 0, y: 0 };
type Rect = { x: number; y: number; width: number; height: number };
const inside = (r: Rect, x: number, y: number) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;

/** Where the annotation may draw: each element's box and its number badge. */
function drawnAreas(report: QcReport): Rect[] {
  const items = annotationItems(report);
  return items.flatMap((item, i) => [
    item.box,
    { ...badgeOrigin(items, i, VIEW, report.viewport.width), width: ANNOTATION_LAYOUT.badgeWidth, height: ANNOTATION_LAYOUT.badgeHeight },
  ]);
}

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const pixel = (p: Pixels, x: number, y: number) => Array.from(p.rgba.subarray((y * p.width + x) * 4, (y * p.width + x) * 4 + 3));

describe('annotated screenshots (real Chromium)', () => {
  let pool: QcPool;
  beforeAll(async () => {
    pool = await launchTestPool();
  });
  afterAll(async () => {
    await pool.close();
  });

  it('differs from the plain screenshot inside every reported box and matches it everywhere else', async () => {
    const report = await pool.check(job(DEFECTS));
    const plain = decodePng(await pool.screenshot(job(DEFECTS)));
    const annotated = decodePng(await pool.screenshot(job(DEFECTS), { annotate: true }));
    expect(annotated.width).toBe(plain.width);
    expect(annotated.height).toBeGreaterThan(plain.height); // the legend is below the screenshot
    const areas = drawnAreas(report);
    let outsideDiffs = 0;
    for (let y = 0; y < plain.height; y += 1) {
      for (let x = 0; x < plain.width; x += 1) {
        if (!areas.some((a) => inside(a, x, y)) && !samePixel(plain, annotated, x, y)) outsideDiffs += 1;
      }
    }
    expect(outsideDiffs).toBe(0);
    for (const item of annotationItems(report)) {
      const { x, y, width, height } = item.box;
      const changed = (px: number, py: number) => px < plain.width && py < plain.height && !samePixel(plain, annotated, px, py);
      let inBox = 0;
      for (let py = y; py < y + height; py += 1) for (let px = x; px < x + width; px += 1) if (changed(px, py)) inBox += 1;
      expect({ item: item.n, changed: inBox > 0 }).toEqual({ item: item.n, changed: true });
      expect(pixel(annotated, x, y + height - 1)).toEqual(rgb(ANNOTATION_COLORS[item.kind])); // outline, colour by kind
    }
  });

  it("draws the same way whatever the page's own styles and scripts do, and leaves its report alone", async () => {
    const hostile = DEFECTS.replace('</body>', `<style>svg, img { display: none !important } * { outline: 0 !important }</style>
      <script>new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => n.remove && n.remove())))
        .observe(document.documentElement, { childList: true, subtree: true });</script></body>`);
    const before = await pool.check(job(`${hostile}<!-- check first -->`));
    const annotated = decodePng(await pool.screenshot(job(hostile), { annotate: true }));
    const after = await pool.check(job(`${hostile}<!-- check after -->`));
    expect(contentOf(after)).toEqual(contentOf(before));
    const drawn = annotationItems(before).filter((i) => i.box.width > 0 && i.box.height > 0); // display:none elements have no box
    expect(drawn.length).toBeGreaterThan(0);
    for (const item of drawn) {
      const { x, y, height } = item.box;
      expect(pixel(annotated, x, y + height - 1)).toEqual(rgb(ANNOTATION_COLORS[item.kind]));
    }
  });
});
