// A restart as a picture: hand-written SVG, no dependency. Panels on one time
// axis, 100 ms buckets: requests (by scheduled time), answered and failed; the
// bucket's p99 latency on a log scale against the worst steady bucket; and, from
// the instruments, which process answered, CPU per process, and each node
// process's event-loop delay and run-queue wait with the load's send lag.
// Vertical lines: the signal, new process listening/ready, old process exit;
// the restart window shaded.
import { isFailure, percentile, type RequestRecord } from '@edu-agents/e2e-support';
import type { Marker, MarkerKind } from './restart-bench.events';
import type { InstrumentSeries } from './restart-bench.instruments';
import { drawPanel, esc, PALETTE, type PanelFrame, type PanelSpec } from './restart-bench.panels';

export interface Bucket {
  startMs: number;
  answered: number;
  failed: number;
  /** p99 latency (scheduled time to answer) of the bucket's requests; 0 when empty. */
  p99Ms: number;
  /** The largest send lag of the bucket's requests (how late the load itself sent them). */
  sendLagMaxMs: number;
  /** p99 of the bucket's requests other than QC renders (`POST /qc/...`): the HTTP path alone; 0 when none. */
  p99NoQcMs: number;
  /** How many of the bucket's requests were QC renders. */
  qcRenders: number;
}

/** Requests per `bucketMs` bucket of scheduled time, from `fromMs` on. */
export function buckets(records: readonly RequestRecord[], fromMs: number, toMs: number, bucketMs = 100): Bucket[] {
  const count = Math.max(1, Math.ceil((toMs - fromMs) / bucketMs));
  const lists = Array.from({ length: count }, () => ({ answered: 0, failed: 0, latencies: [] as number[], noQc: [] as number[], qc: 0, lag: 0 }));
  for (const r of records) {
    const i = Math.floor((r.scheduledMs - fromMs) / bucketMs);
    if (i < 0 || i >= count) continue;
    if (isFailure(r)) lists[i].failed += 1;
    else lists[i].answered += 1;
    lists[i].latencies.push(r.endMs - r.scheduledMs);
    if (r.label.startsWith('POST /qc/')) lists[i].qc += 1;
    else lists[i].noQc.push(r.endMs - r.scheduledMs);
    lists[i].lag = Math.max(lists[i].lag, r.startMs - r.scheduledMs);
  }
  return lists.map((b, i) => ({
    startMs: fromMs + i * bucketMs, answered: b.answered, failed: b.failed,
    p99Ms: percentile(b.latencies.sort((x, y) => x - y), 0.99), sendLagMaxMs: Math.round(b.lag * 10) / 10,
    p99NoQcMs: percentile(b.noQc.sort((x, y) => x - y), 0.99), qcRenders: b.qc,
  }));
}

/**
 * How likely a restart that changed nothing would still put at least one bucket above the steady
 * window's worst, in a restart window of its length (0..1). If the buckets are exchangeable, the
 * worst of all n_steady + n_restart lies among the restart's with probability
 * n_restart / (n_steady + n_restart): 5 s of steady state against a 2 s restart is 29 %, however
 * good the restart. Only the buckets that can set the worst count: with the QC renders (`withQc`),
 * those that hold a render, since a render is slower than any GET; without them, those with a
 * request other than a render. 0 when either window has none.
 */
export function chanceAboveSteady(steady: readonly Bucket[], restart: readonly Bucket[], withQc: boolean): number {
  const renders = withQc && steady.some((b) => b.qcRenders > 0);
  const counts = (b: Bucket) => (renders ? b.qcRenders > 0 : withQc ? b.answered + b.failed > 0 : b.answered + b.failed > b.qcRenders);
  const s = steady.filter(counts).length;
  const r = restart.filter(counts).length;
  return s === 0 || r === 0 ? 0 : r / (s + r);
}

/** The buckets of a window (ms after t0) that hold a request. */
export function bucketsIn(bs: readonly Bucket[], fromMs: number, toMs: number): Bucket[] {
  return bs.filter((b) => b.startMs >= fromMs && b.startMs < toMs && b.answered + b.failed > 0);
}

/** The worst bucket p99 of a window (ms after t0); empty buckets do not count. */
export function worstBucket(bs: readonly Bucket[], fromMs: number, toMs: number, of: (b: Bucket) => number = (b) => b.p99Ms): number {
  return Math.round(Math.max(0, ...bucketsIn(bs, fromMs, toMs).map(of)) * 10) / 10;
}

const COLORS: Record<MarkerKind | 'answered' | 'failed' | 'p99' | 'window', string> = {
  answered: '#43a047', failed: '#e53935', p99: '#1e63c8', window: '#fff4c2',
  signal: '#111111', listening: '#ef6c00', ready: '#2e7d32', exit: '#8e24aa',
};

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export interface TimelineInput {
  title: string;
  /** One line, or several (each below the one before). */
  subtitle: string | readonly string[];
  buckets: Bucket[];
  bucketMs: number;
  markers: Marker[];
  /** The restart window, ms after t0 (shaded). */
  window: { fromMs: number; toMs: number };
  /** Where 0 s sits on the x axis (the first signal). */
  zeroMs: number;
  /** The worst bucket p99 of the steady window: a reference line on the latency panel. */
  steadyWorstP99Ms?: number;
  /** Per-process panels (CPU, event-loop delay, who answered), same buckets. */
  instruments?: InstrumentSeries;
  /** Largest send lag of the load per bucket (ms), drawn with the event-loop delays. */
  sendLagMaxMs?: number[];
}

/** The panels of one run: requests and p99 always, the instruments' when recorded. */
function panels(input: TimelineInput): PanelSpec[] {
  const bs = input.buckets;
  const out: PanelSpec[] = [
    {
      title: `requests / ${input.bucketMs} ms (scheduled time)`, yLabel: 'requests', kind: 'stacked', scale: 'linear', minMax: 1, unit: '',
      series: [{ name: 'answered', color: COLORS.answered, values: bs.map((b) => b.answered) }, { name: 'failed', color: COLORS.failed, values: bs.map((b) => b.failed) }],
    },
    {
      title: 'p99 latency per bucket', yLabel: 'ms (log)', kind: 'lines', scale: 'log', minMax: 10, unit: 'ms',
      series: [
        { name: 'p99', color: COLORS.p99, values: bs.map((b) => (b.answered + b.failed === 0 ? Number.NaN : b.p99Ms)) },
        { name: 'p99 without QC renders', color: '#90caf9', values: bs.map((b) => (b.answered + b.failed === 0 ? Number.NaN : b.p99NoQcMs)), dashed: true },
      ],
      references: input.steadyWorstP99Ms === undefined ? [] : [{ value: input.steadyWorstP99Ms, label: `worst steady bucket ${fmt(input.steadyWorstP99Ms)} ms`, color: '#888' }],
    },
  ];
  const inst = input.instruments;
  if (!inst) return out;
  const apis = Object.keys(inst.responses);
  const colorOf = (name: string) => PALETTE[Math.max(0, apis.indexOf(name.replace(/^chromium of /, ''))) % PALETTE.length];
  out.push({
    title: 'responses per process', yLabel: 'responses', kind: 'stacked', scale: 'linear', minMax: 1, unit: '',
    series: apis.map((name) => ({ name, color: colorOf(name), values: inst.responses[name] })),
  });
  const others: Record<string, string> = { nginx: '#009688', load: '#795548', cli: '#9e9e9e', bench: '#bdbdbd', sampler: '#e0e0e0', 'other of the run': '#cfd8dc', 'chromium (other)': '#ff8a65', 'machine: rest': '#000000', steal: '#ff00ff' };
  out.push({
    title: 'CPU per process (% of one core)', yLabel: '% of a core', kind: 'lines', scale: 'linear', minMax: 100, unit: '%',
    series: Object.entries(inst.cpu).filter(([, v]) => v.some((n) => n > 0)).map(([name, values]) => ({
      name, values, color: others[name] ?? colorOf(name), dashed: name.startsWith('chromium'),
    })),
  });
  out.push({
    title: 'event-loop delay (max) and main-thread run-queue wait (dashed)', yLabel: 'ms (log)', kind: 'lines', scale: 'log', minMax: 100, unit: 'ms',
    series: [
      ...apis.map((name) => ({ name, color: colorOf(name), values: inst.loopMaxMs[name] })),
      ...Object.entries(inst.runQueueMs).map(([name, values]) => ({ name: `${name} wait`, color: colorOf(name), values, dashed: true })),
      ...(input.sendLagMaxMs ? [{ name: 'load send lag', color: '#795548', values: input.sendLagMaxMs }] : []),
    ],
  });
  return out;
}

/** The SVG document of one run. */
export function timelineSvg(input: TimelineInput): string {
  const W = 1000;
  const left = 70;
  const plotW = W - left - 70;
  const { buckets: bs, bucketMs, zeroMs } = input;
  const from = bs[0]?.startMs ?? 0;
  const to = from + bs.length * bucketMs;
  const xMs = (ms: number) => left + ((ms - from) / (to - from)) * plotW;
  const frame: PanelFrame = { x: (i) => xMs(from + i * bucketMs), left, width: plotW, bucketWidth: Math.max(0.5, plotW / Math.max(1, bs.length) - 0.3) };
  // Marker labels go in rows above the plots; a label moves down a row when it would touch the previous one.
  const rowEnds: number[] = [];
  const labelOf = (m: Marker) => `${m.label} ${fmt(Math.round((m.ms - zeroMs) / 10) / 100)} s`;
  const placed = input.markers.filter((m) => xMs(m.ms) >= left && xMs(m.ms) <= left + plotW).map((m) => {
    const px = xMs(m.ms);
    const width = 6.3 * labelOf(m).length;
    const x0 = px + 3 + width > W - 4 ? px - 3 - width : px + 3; // right of the line, or left of it near the edge
    let row = rowEnds.findIndex((end) => x0 > end + 8);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = x0 + width;
    return { m, px, x0, row };
  });
  const specs = panels(input);
  const subtitle = typeof input.subtitle === 'string' ? [input.subtitle] : input.subtitle;
  const labelsY = 56 + (subtitle.length - 1) * 16;
  const top = labelsY + rowEnds.length * 14;
  const panelH = 130;
  const step = panelH + 18 + 26;
  const bottom = top + specs.length * step - 26;
  const H = bottom + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">${esc(input.title)}</text>`);
  subtitle.forEach((line, i) => out.push(`<text x="${left}" y="${40 + i * 16}" fill="#444">${esc(line)}</text>`));
  specs.forEach((_, k) => {
    const y0 = top + k * step + 18;
    out.push(`<rect x="${xMs(input.window.fromMs).toFixed(1)}" y="${y0}" width="${Math.max(1, xMs(input.window.toMs) - xMs(input.window.fromMs)).toFixed(1)}" height="${panelH}" fill="${COLORS.window}"/>`);
  });
  specs.forEach((spec, k) => out.push(...drawPanel(spec, frame, top + k * step, panelH)));
  const span = (to - from) / 1000;
  const tickStep = span > 60 ? 10 : span > 24 ? 5 : span > 10 ? 2 : 1;
  for (let s = Math.ceil((from - zeroMs) / 1000 / tickStep) * tickStep; s * 1000 + zeroMs <= to; s += tickStep) {
    const px = xMs(zeroMs + s * 1000);
    out.push(`<line x1="${px}" y1="${bottom}" x2="${px}" y2="${bottom + 4}" stroke="#999"/><text x="${px}" y="${bottom + 17}" text-anchor="middle" fill="#444">${s} s</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${bottom + 33}" text-anchor="middle" fill="#444">time from the first signal; the restart window shaded</text>`);
  // Markers: a dashed line through every panel, the label in its row above them.
  for (const { m, px, x0, row } of placed) {
    const color = COLORS[m.kind];
    const ly = labelsY + row * 14;
    out.push(`<line x1="${px.toFixed(1)}" y1="${ly + 2}" x2="${px.toFixed(1)}" y2="${bottom}" stroke="${color}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x0.toFixed(1)}" y="${ly}" fill="${color}" font-size="11">${esc(labelOf(m))}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
