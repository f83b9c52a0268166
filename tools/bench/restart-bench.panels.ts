// Panels of a timeline SVG (restart-bench.timeline.ts): one plot area on the
// shared time axis, drawn as lines or stacked bars, with its own y axis and a
// legend in its title row. Hand-written SVG, no dependency.

export const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One named series of a panel, one value per bucket (NaN: nothing known, a gap in a line). */
export interface PanelSeries {
  name: string;
  color: string;
  values: readonly number[];
  dashed?: boolean;
}

export interface PanelFrame {
  /** x of the left edge of bucket i. */
  x: (i: number) => number;
  left: number;
  width: number;
  bucketWidth: number;
}

export interface PanelSpec {
  title: string;
  yLabel: string;
  series: PanelSeries[];
  kind: 'lines' | 'stacked';
  scale: 'linear' | 'log';
  /** Lowest top of the y axis (so a quiet panel is not blown up to noise). */
  minMax: number;
  unit: string;
  /** Horizontal reference lines, e.g. the worst steady bucket. */
  references?: { value: number; label: string; color: string }[];
}

/** Palette for processes: the same index, the same colour in every panel. */
export const PALETTE = ['#1e63c8', '#e53935', '#2e7d32', '#ef6c00', '#8e24aa', '#00897b', '#6d4c41', '#c0ca33', '#546e7a', '#d81b60', '#3949ab', '#7cb342'];

const fmtTick = (v: number, unit: string) => (unit === 'ms' && v >= 1000 ? `${v / 1000} s` : `${Number.isInteger(v) ? v : v.toFixed(1)}${unit === '%' ? ' %' : ` ${unit}`}`);

/** Draws a panel at `top`; returns its SVG lines (title row + plot of `height`). */
export function drawPanel(spec: PanelSpec, frame: PanelFrame, top: number, height: number): string[] {
  const out: string[] = [];
  const plotTop = top + 18;
  const { x, left, width, bucketWidth } = frame;
  const n = Math.max(0, ...spec.series.map((s) => s.values.length));
  const totals = Array.from({ length: n }, (_, i) => spec.series.reduce((sum, s) => sum + (Number.isFinite(s.values[i]) ? s.values[i] : 0), 0));
  const peak = spec.kind === 'stacked' ? Math.max(0, ...totals) : Math.max(0, ...spec.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const max = Math.max(spec.minMax, peak, ...(spec.references ?? []).map((r) => r.value));
  const decades = Math.max(1, Math.ceil(Math.log10(max)));
  const y = spec.scale === 'log'
    ? (v: number) => plotTop + height - (Math.log10(Math.max(1, v)) / decades) * height
    : (v: number) => plotTop + height - (Math.max(0, v) / max) * height;
  out.push(`<text x="${left}" y="${top + 12}" font-weight="bold" fill="#333">${esc(spec.title)}</text>`);
  let lx = left + 7.2 * spec.title.length + 16;
  for (const s of spec.series) {
    out.push(`<line x1="${lx}" y1="${top + 8}" x2="${lx + 14}" y2="${top + 8}" stroke="${s.color}" stroke-width="${spec.kind === 'stacked' ? 8 : 2}"${s.dashed ? ' stroke-dasharray="3 2"' : ''}/><text x="${lx + 18}" y="${top + 12}" font-size="11" fill="#333">${esc(s.name)}</text>`);
    lx += 26 + 6.2 * s.name.length;
  }
  const ticks = spec.scale === 'log' ? Array.from({ length: decades + 1 }, (_, d) => 10 ** d) : [0, max / 2, max].map((v) => Math.round(v * 10) / 10);
  for (const v of ticks) {
    out.push(`<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${left + width}" y2="${y(v).toFixed(1)}" stroke="#ececec"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#444" font-size="11">${fmtTick(v, spec.unit)}</text>`);
  }
  out.push(`<g stroke="#999"><line x1="${left}" y1="${plotTop + height}" x2="${left + width}" y2="${plotTop + height}"/><line x1="${left}" y1="${plotTop}" x2="${left}" y2="${plotTop + height}"/></g>`);
  out.push(`<text x="14" y="${plotTop + height / 2}" transform="rotate(-90 14 ${plotTop + height / 2})" text-anchor="middle" fill="#444" font-size="11">${esc(spec.yLabel)}</text>`);
  if (spec.kind === 'stacked') {
    const base = new Array<number>(n).fill(0);
    for (const s of spec.series) {
      s.values.forEach((v, i) => {
        if (!(v > 0)) return;
        out.push(`<rect x="${x(i).toFixed(1)}" y="${y(base[i] + v).toFixed(1)}" width="${bucketWidth.toFixed(2)}" height="${(y(base[i]) - y(base[i] + v)).toFixed(1)}" fill="${s.color}"/>`);
        base[i] += v;
      });
    }
  } else {
    for (const s of spec.series) {
      let path = '';
      let pen = false;
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        path += `${pen ? 'L' : 'M'}${(x(i) + bucketWidth / 2).toFixed(1)},${y(v).toFixed(1)} `;
        pen = true;
      });
      if (path) out.push(`<path d="${path.trim()}" fill="none" stroke="${s.color}" stroke-width="1.4"${s.dashed ? ' stroke-dasharray="3 2"' : ''}/>`);
    }
  }
  for (const r of spec.references ?? []) {
    out.push(`<line x1="${left}" y1="${y(r.value).toFixed(1)}" x2="${left + width}" y2="${y(r.value).toFixed(1)}" stroke="${r.color}" stroke-dasharray="6 3"/><text x="${left + width - 4}" y="${(y(r.value) - 3).toFixed(1)}" text-anchor="end" font-size="10" fill="${r.color}">${esc(r.label)}</text>`);
  }
  return out;
}
