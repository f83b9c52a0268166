import type { QcReport } from './qc-report.types';
import { ANNOTATION_COLORS, ANNOTATION_LAYOUT, annotationHtml, annotationItems, badgeOrigin } from './annotation.html';

const box = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });
const report = (overrides: Partial<QcReport>): QcReport => ({
  ok: false, consoleErrors: [], pageErrors: [], blockedRequests: [], failedRequests: [], brokenImages: [], imagesMissingAlt: [],
  overflowingElements: [], renderTimeMs: 1, cached: false, viewport: { width: 640, height: 480 }, ...overrides,
});

describe('annotation page', () => {
  it('numbers broken images, then images without alt, then overflowing elements', () => {
    const items = annotationItems(report({
      overflowingElements: [{ selector: '#t', right: 900, viewportWidth: 640, box: box(0, 300, 900, 20) }],
      imagesMissingAlt: [{ src: 'b.png', box: box(10, 10, 50, 50) }],
      brokenImages: [{ src: 'a.png', box: box(10, 100, 50, 50) }],
    }));
    expect(items.map((i) => [i.n, i.kind, i.detail])).toEqual([[1, 'brokenImage', 'a.png'], [2, 'missingAlt', 'b.png'], [3, 'overflow', '#t']]);
  });

  it('puts a badge inside a box that fits it, above a small one, and side by side on the same spot', () => {
    const items = annotationItems(report({
      brokenImages: [{ src: 'big', box: box(100, 100, 200, 100) }, { src: 'tiny', box: box(50, 60, 1, 1) }],
      imagesMissingAlt: [{ src: 'big', box: box(100, 100, 200, 100) }, { src: 'top', box: box(5, 0, 2, 2) }],
    }));
    const { badgeWidth, badgeHeight } = ANNOTATION_LAYOUT;
    expect(badgeOrigin(items, 0, { x: 0, y: 0 }, 640)).toEqual({ x: 100, y: 100 });
    expect(badgeOrigin(items, 1, { x: 0, y: 0 }, 640)).toEqual({ x: 50, y: 60 - badgeHeight });
    expect(badgeOrigin(items, 2, { x: 0, y: 0 }, 640)).toEqual({ x: 100 + badgeWidth, y: 100 });
    expect(badgeOrigin(items, 3, { x: 0, y: 0 }, 640)).toEqual({ x: 5, y: 2 }); // no room above: below
    expect(badgeOrigin(items, 0, { x: 0, y: 50 }, 640)).toEqual({ x: 100, y: 50 }); // scrolled page
  });

  it('escapes every string of the content and loads nothing but the screenshot', () => {
    const { html, width, height } = annotationHtml('AAAA', { width: 640, height: 480 }, annotationItems(report({
      brokenImages: [{ src: '"><script>alert(1)</script><img src=x onerror=alert(2)>', box: box(0, 0, 10, 10) }],
    })), { x: 0, y: 0 });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;');
    expect(html.match(/src="[^"]*"/g)).toEqual(['src="data:image/png;base64,AAAA"']);
    expect(html).toContain(ANNOTATION_COLORS.brokenImage);
    expect({ width, height }).toEqual({ width: 640, height: 480 + 1 + 2 * ANNOTATION_LAYOUT.legendPad + ANNOTATION_LAYOUT.legendRow });
  });
});
