// A restart as a picture: hand-written SVG, no dependency. Top: requests per
// 100 ms bucket (by scheduled time), answered and failed, stacked. Bottom: the
// bucket's p99 latency on a log scale. Vertical lines: the signal, new process
// listening/ready, old process exit; the restart window shaded.
import { isFailure, percentile, type RequestRecord } from '@edu-agents/e2e-support';
import type { Marker, MarkerKind } from './restart-bench.events';

export interface Bucket {
  startMs: number;
  answered: number;
  failed: number;
  /** p99 latency (scheduled time to answer) of the bucket's requests; 0 when empty. */
  p99Ms: number;
}

/** Requests per `bucketMs` bucket of scheduled time, from `fromMs` on. */
export function buckets(records: readonly RequestRecord[], fromMs: number, toMs: number, bucketMs = 100): Bucket[] {
  const count = Math.max(1, Math.ceil((toMs - fromMs) / bucketMs));
  const lists = Array.from({ length: count }, () => ({ answered: 0, failed: 0, latencies: [] as number[] }));
  for (const r of records) {
    const i = Math.floor((r.scheduledMs - fromMs) / bucketMs);
    if (i < 0 || i >= count) continue;
    if (isFailure(r)) lists[i].failed += 1;
    else lists[i].answered += 1;
    lists[i].latencies.push(r.endMs - r.scheduledMs);
  }
  return lists.map((b, i) => ({ startMs: fromMs + i * bucketMs, answered: b.answered, failed: b.failed, p99Ms: percentile(b.latencies.sort((x, y) => x - y), 0.99) }));
}

const COLORS: Record<MarkerKind | 'answered' | 'failed' | 'p99' | 'window', string> = {
  answered: '#43a047', failed: '#e53935', p99: '#1e63c8', window: '#fff4c2',
  signal: '#111111', listening: '#ef6c00', ready: '#2e7d32', exit: '#8e24aa',
};

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export interface TimelineInput {
  title: string;
  subtitle: string;
  buckets: Bucket[];
  bucketMs: number;
  markers: Marker[];
  /** The restart window, ms after t0 (shaded). */
  window: { fromMs: number; toMs: number };
  /** Where 0 s sits on the x axis (the first signal). */
  zeroMs: number;
}

/** The SVG document of one run. */
export function timelineSvg(input: TimelineInput): string {
  const W = 1000;
  const left = 70;
  const right = 70;
  const plotW = W - left - right;
  const { buckets: bs, bucketMs, zeroMs } = input;
  const from = bs[0]?.startMs ?? 0;
  const to = from + bs.length * bucketMs;
  const x = (ms: number) => left + ((ms - from) / (to - from)) * plotW;
  // Marker labels go in rows above the plot; a label moves down a row when it would touch the previous one.
  const rowEnds: number[] = [];
  const labelOf = (m: Marker) => `${m.label} ${fmt(Math.round((m.ms - zeroMs) / 10) / 100)} s`;
  const placed = input.markers.filter((m) => x(m.ms) >= left && x(m.ms) <= left + plotW).map((m) => {
    const px = x(m.ms);
    const width = 6.3 * labelOf(m).length;
    // Right of the line, or left of it near the right edge.
    const x0 = px + 3 + width > W - 4 ? px - 3 - width : px + 3;
    let row = rowEnds.findIndex((end) => x0 > end + 8);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = x0 + width;
    return { m, px, x0, row };
  });
  const top = 56 + rowEnds.length * 14;
  const barsH = 150;
  const gap = 46;
  const latH = 150;
  const H = top + barsH + gap + latH + 62;
  const maxCount = Math.max(1, ...bs.map((b) => b.answered + b.failed));
  const yBars = (n: number) => top + barsH - (n / maxCount) * barsH;
  const latTop = top + barsH + gap;
  const maxLat = Math.max(10, ...bs.map((b) => b.p99Ms));
  const decades = Math.ceil(Math.log10(maxLat));
  const yLat = (ms: number) => latTop + latH - (Math.log10(Math.max(1, ms)) / decades) * latH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(input.title)}</text>`);
  out.push(`<text x="${left}" y="40" fill="#444">${esc(input.subtitle)}</text>`);
  // Restart window.
  for (const [y0, h] of [[top, barsH], [latTop, latH]] as const) {
    out.push(`<rect x="${x(input.window.fromMs).toFixed(1)}" y="${y0}" width="${Math.max(1, x(input.window.toMs) - x(input.window.fromMs)).toFixed(1)}" height="${h}" fill="${COLORS.window}"/>`);
  }
  // Bars: answered below, failed stacked on top.
  const bw = Math.max(0.5, plotW / bs.length - 0.3);
  for (const b of bs) {
    const bx = x(b.startMs).toFixed(1);
    if (b.answered > 0) out.push(`<rect x="${bx}" y="${yBars(b.answered).toFixed(1)}" width="${bw.toFixed(2)}" height="${(top + barsH - yBars(b.answered)).toFixed(1)}" fill="${COLORS.answered}"/>`);
    if (b.failed > 0) out.push(`<rect x="${bx}" y="${yBars(b.answered + b.failed).toFixed(1)}" width="${bw.toFixed(2)}" height="${(yBars(b.answered) - yBars(b.answered + b.failed)).toFixed(1)}" fill="${COLORS.failed}"/>`);
  }
  // p99 line (gaps where a bucket is empty).
  let path = '';
  let pen = false;
  for (const b of bs) {
    if (b.answered + b.failed === 0) {
      pen = false;
      continue;
    }
    path += `${pen ? 'L' : 'M'}${(x(b.startMs) + bw / 2).toFixed(1)},${yLat(b.p99Ms).toFixed(1)} `;
    pen = true;
  }
  out.push(`<path d="${path.trim()}" fill="none" stroke="${COLORS.p99}" stroke-width="1.5"/>`);
  // Axes and grid.
  out.push(`<g stroke="#999" stroke-width="1"><line x1="${left}" y1="${top + barsH}" x2="${left + plotW}" y2="${top + barsH}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + barsH}"/>`);
  out.push(`<line x1="${left}" y1="${latTop + latH}" x2="${left + plotW}" y2="${latTop + latH}"/><line x1="${left}" y1="${latTop}" x2="${left}" y2="${latTop + latH}"/></g>`);
  for (const n of [0, Math.round(maxCount / 2), maxCount]) {
    out.push(`<text x="${left - 6}" y="${yBars(n) + 4}" text-anchor="end" fill="#444">${n}</text>`);
  }
  for (let d = 0; d <= decades; d++) {
    const ms = 10 ** d;
    out.push(`<line x1="${left}" y1="${yLat(ms)}" x2="${left + plotW}" y2="${yLat(ms)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${left - 6}" y="${yLat(ms) + 4}" text-anchor="end" fill="#444">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`);
  }
  out.push(`<text x="14" y="${top + barsH / 2}" transform="rotate(-90 14 ${top + barsH / 2})" text-anchor="middle" fill="#444">requests / ${bucketMs} ms</text>`);
  out.push(`<text x="14" y="${latTop + latH / 2}" transform="rotate(-90 14 ${latTop + latH / 2})" text-anchor="middle" fill="#444">p99 latency (log)</text>`);
  const span = (to - from) / 1000;
  const step = span > 60 ? 10 : span > 24 ? 5 : span > 10 ? 2 : 1;
  for (let s = Math.ceil((from - zeroMs) / 1000 / step) * step; s * 1000 + zeroMs <= to; s += step) {
    const px = x(zeroMs + s * 1000);
    out.push(`<line x1="${px}" y1="${latTop + latH}" x2="${px}" y2="${latTop + latH + 4}" stroke="#999"/><text x="${px}" y="${latTop + latH + 17}" text-anchor="middle" fill="#444">${s} s</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${latTop + latH + 34}" text-anchor="middle" fill="#444">time from the first signal (scheduled send time of each request)</text>`);
  // Markers: a dashed line through both panels, the label in its row above the plot.
  for (const { m, px, x0, row } of placed) {
    const color = COLORS[m.kind];
    const ly = 56 + row * 14;
    out.push(`<line x1="${px.toFixed(1)}" y1="${ly + 2}" x2="${px.toFixed(1)}" y2="${latTop + latH}" stroke="${color}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x0.toFixed(1)}" y="${ly}" fill="${color}" font-size="11">${esc(labelOf(m))}</text>`);
  }
  // Legend.
  const ly = H - 14;
  const legend: [string, string][] = [[COLORS.answered, 'answered'], [COLORS.failed, 'failed'], [COLORS.p99, 'p99 per bucket'], [COLORS.window, 'restart window']];
  legend.forEach(([color, text], i) => {
    const lx = left + i * 150;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color}" stroke="#bbb"/><text x="${lx + 17}" y="${ly}" fill="#333">${text}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
