import type { ElementBox, QcReport } from './qc-report.types';

/** Outline colour of each kind of element item; also the legend's. */
export const ANNOTATION_COLORS = {
  brokenImage: '#d7263d',
  missingAlt: '#e07b00',
  overflow: '#7b2cbf',
} as const;

export type AnnotationKind = keyof typeof ANNOTATION_COLORS;

const LABELS: Record<AnnotationKind, string> = {
  brokenImage: 'broken image',
  missingAlt: 'image without alt text',
  overflow: 'overflows the viewport',
};

/** One numbered element of a report, in the order the legend lists them. */
export interface AnnotationItem {
  n: number;
  kind: AnnotationKind;
  detail: string;
  box: ElementBox;
}

/** Geometry of the drawing, so tests know where pixels may change. */
export const ANNOTATION_LAYOUT = { stroke: 3, badgeWidth: 22, badgeHeight: 18, legendRow: 22, legendPad: 8 } as const;

/** The report's element items, numbered from 1: broken images, images without alt, overflowing elements. */
export function annotationItems(report: QcReport): AnnotationItem[] {
  const items: Omit<AnnotationItem, 'n'>[] = [
    ...report.brokenImages.map((i) => ({ kind: 'brokenImage' as const, detail: i.src, box: i.box })),
    ...report.imagesMissingAlt.map((i) => ({ kind: 'missingAlt' as const, detail: i.src, box: i.box })),
    ...report.overflowingElements.map((i) => ({ kind: 'overflow' as const, detail: i.selector, box: i.box })),
  ];
  return items.map((item, index) => ({ ...item, n: index + 1 }));
}

/**
 * Where item `index`'s number badge goes, in screenshot pixels: inside its box's top-left corner
 * when it fits, else just above the box (below it at the top edge); shifted right past the badges
 * of earlier items on the same spot.
 */
export function badgeOrigin(items: AnnotationItem[], index: number, scroll: { x: number; y: number }, width: number): { x: number; y: number } {
  const { badgeWidth, badgeHeight } = ANNOTATION_LAYOUT;
  const { box } = items[index];
  const [x, y] = [box.x - scroll.x, box.y - scroll.y];
  const fits = box.width >= badgeWidth && box.height >= badgeHeight;
  const top = fits ? y : y >= badgeHeight ? y - badgeHeight : y + box.height;
  const before = items.slice(0, index).filter((other) => other.box.x === box.x && other.box.y === box.y).length;
  return { x: Math.min(Math.max(0, x) + before * badgeWidth, Math.max(0, width - badgeWidth)), y: Math.max(0, top) };
}

/** The outline of one item: a frame drawn inside its box, or the whole box filled when it is too small for one. */
function outline(item: AnnotationItem, x: number, y: number): string {
  const { stroke } = ANNOTATION_LAYOUT;
  const color = ANNOTATION_COLORS[item.kind];
  const { width, height } = item.box;
  if (width <= 2 * stroke || height <= 2 * stroke) return `<rect x="${x}" y="${y}" width="${width}" height="${height}" fill="${color}"/>`;
  return `<rect x="${x + stroke / 2}" y="${y + stroke / 2}" width="${width - stroke}" height="${height - stroke}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`;
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const shorten = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}...` : text);

/**
 * A self-contained page (no script, data: image only) that shows the screenshot at 1:1 with an
 * SVG overlay (an outline and a numbered badge per element, coloured by kind) and a legend below
 * it. Every string from the report is escaped: the page is ours, the strings are the content's.
 */
export function annotationHtml(pngBase64: string, viewport: QcReport['viewport'], items: AnnotationItem[], scroll: { x: number; y: number }) {
  const { badgeWidth, badgeHeight, legendRow, legendPad } = ANNOTATION_LAYOUT;
  const shapes = items.map((item, index) => {
    const badge = badgeOrigin(items, index, scroll, viewport.width);
    return outline(item, item.box.x - scroll.x, item.box.y - scroll.y)
      + `<rect x="${badge.x}" y="${badge.y}" width="${badgeWidth}" height="${badgeHeight}" fill="${ANNOTATION_COLORS[item.kind]}"/>`
      + `<text x="${badge.x + badgeWidth / 2}" y="${badge.y + 13}" text-anchor="middle">${item.n}</text>`;
  });
  const rows = items.length === 0
    ? ['<div class="row">No element is reported.</div>']
    : items.map((item) => `<div class="row"><span class="n" style="background:${ANNOTATION_COLORS[item.kind]}">${item.n}</span> ${LABELS[item.kind]}: ${escape(shorten(item.detail))}</div>`);
  const height = viewport.height + 1 + 2 * legendPad + rows.length * legendRow;
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
*{box-sizing:border-box}html,body{margin:0;background:#fff;color:#111;font:13px/22px sans-serif}
.shot{position:relative;width:${viewport.width}px;height:${viewport.height}px;overflow:hidden}
.shot img{display:block;width:${viewport.width}px;height:${viewport.height}px;image-rendering:pixelated}
.shot svg{position:absolute;left:0;top:0;font:bold 12px sans-serif;fill:#fff}
.legend{border-top:1px solid #888;padding:${legendPad}px 10px;width:${viewport.width}px}
.row{height:${legendRow}px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.n{display:inline-block;min-width:22px;padding:0 4px;color:#fff;text-align:center;font-weight:bold;line-height:18px}
</style></head><body><div class="shot"><img alt="" src="data:image/png;base64,${pngBase64}">
<svg width="${viewport.width}" height="${viewport.height}" xmlns="http://www.w3.org/2000/svg">${shapes.join('')}</svg></div>
<div class="legend">${rows.join('')}</div></body></html>`;
  return { html, width: viewport.width, height };
}
