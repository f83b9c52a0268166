// The handoff soak as a picture: hand-written SVG, no dependency. One column per
// handoff (0 = the first process), five panels on that axis: the serving process's
// RSS with a ±10 % band around the median of the 3rd to 12th successors; its own
// fds; the Chromium processes of the run; how long each handoff took (to the
// successor ready, and to the old process's exit) with the machine's load average;
// and the requests that failed between a SIGHUP and the old process's exit.

/** The serving process after handoff `handoff` (0: the process started first). */
export interface SoakRow {
  handoff: number;
  pid: number;
  /** SIGHUP to the successor answering ready in the pid file. */
  readyMs: number;
  /** SIGHUP to the old process's exit. */
  oldExitMs: number;
  /** Seconds since the start of the soak. */
  atS: number;
  /** The machine's 1-minute load average when the handoff began (2 cores). */
  load1: number;
  /** Median of the readings. */
  rssMb: number;
  /** Highest minus lowest reading of the window (garbage collection). */
  rssSpreadMb: number;
  ownFds: number;
  chromium: number;
  /** QC profile directories in the run's TMPDIR. */
  profiles: number;
  /** Anything else in the run's TMPDIR (Chrome's singleton directories). */
  otherTmp: number;
}

interface Summary {
  requests: number;
  failed: number;
  rssDriftThirdToLast: number | null;
  rssTrend: { firstTenMedianMb: number; driftPercent: number; slopeMbPer100: number };
  failures: { duringHandoff: number | null }[];
  options: { handoffs: number; ratePerSec: number; qcEvery: number };
}

const W = 960;
const L = 70;
const R = 20;
const PANEL = 120;
const GAP = 34;
const TOP = 66;

interface Series {
  label: string;
  color: string;
  values: number[];
}

function panel(index: number, title: string, rows: SoakRow[], series: Series[], options: { band?: [number, number]; bars?: boolean; unit: string }): string {
  const top = TOP + index * (PANEL + GAP);
  const all = series.flatMap((s) => s.values).concat(options.band ?? []);
  const max = Math.max(1, ...all) * 1.08;
  const min = options.bars ? 0 : Math.max(0, Math.min(...all) * 0.92);
  const n = Math.max(1, rows.length - 1);
  const x = (i: number) => L + (i / n) * (W - L - R);
  const y = (v: number) => top + PANEL - ((v - min) / (max - min || 1)) * PANEL;
  const parts = [`<text x="${L}" y="${top - 8}" font-size="12" font-weight="bold">${title}</text>`];
  parts.push(`<rect x="${L}" y="${top}" width="${W - L - R}" height="${PANEL}" fill="none" stroke="#cfd8dc"/>`);
  for (const f of [0, 0.5, 1]) {
    const v = min + (max - min) * f;
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${Math.round(v)} ${options.unit}</text>`);
  }
  if (options.band) {
    const [lo, hi] = options.band;
    parts.push(`<rect x="${L}" y="${y(hi)}" width="${W - L - R}" height="${Math.max(0, y(lo) - y(hi))}" fill="#e8f5e9"/>`);
  }
  series.forEach((s, k) => {
    if (options.bars) {
      const w = Math.max(1, ((W - L - R) / (n + 1)) * 0.4);
      s.values.forEach((v, i) => parts.push(`<rect x="${(x(i) - w + k * w).toFixed(1)}" y="${y(v).toFixed(1)}" width="${w.toFixed(1)}" height="${(top + PANEL - y(v)).toFixed(1)}" fill="${s.color}"/>`));
    } else {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    }
    parts.push(`<text x="${W - R - 4}" y="${top + 14 + k * 13}" font-size="10" text-anchor="end" fill="${s.color}">${s.label}</text>`);
  });
  return parts.join('\n');
}

export function soakSvg(rows: SoakRow[], summary: Summary): string {
  const early = summary.rssTrend.firstTenMedianMb;
  const H = TOP + 5 * (PANEL + GAP) + 10;
  const failed = rows.map((r) => summary.failures.filter((f) => f.duringHandoff === r.handoff && r.handoff > 0).length);
  const n = Math.max(1, rows.length - 1);
  const ticks = rows
    .filter((r) => r.handoff % Math.max(1, Math.ceil(rows.length / 10)) === 0)
    .map((r) => `<text x="${(L + (r.handoff / n) * (W - L - R)).toFixed(1)}" y="${H - 6}" font-size="10" text-anchor="middle">${r.handoff}</text>`);
  const { handoffs, ratePerSec, qcEvery } = summary.options;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 6}" font-family="sans-serif">
<rect width="${W}" height="${H + 6}" fill="white"/>
<text x="${L}" y="18" font-size="13" font-weight="bold">${handoffs} consecutive hot handoffs at ${ratePerSec} req/s, a QC render every ${qcEvery} requests</text>
<text x="${L}" y="34" font-size="11" fill="#546e7a">${summary.requests} requests, ${summary.failed} failed; RSS 3rd to last ${summary.rssDriftThirdToLast ?? 'n/a'} %, medians of ten ${summary.rssTrend.driftPercent} %, slope ${summary.rssTrend.slopeMbPer100} MB per 100; x: handoff (0 = the first process)</text>
${panel(0, 'RSS of the serving process, median of 15 readings (green band: ±10 % of the 3rd-12th successors\' median)', rows, [{ label: 'RSS', color: '#1e63c8', values: rows.map((r) => r.rssMb) }], { unit: 'MB', band: Number.isFinite(early) ? [early * 0.9, early * 1.1] : undefined })}
${panel(1, "The serving process's own file descriptors", rows, [{ label: 'own fds', color: '#8e24aa', values: rows.map((r) => r.ownFds) }], { unit: '' })}
${panel(2, 'Chromium processes of the run, and what it keeps in its TMPDIR', rows, [
    { label: 'Chromium processes', color: '#ef6c00', values: rows.map((r) => r.chromium) },
    { label: 'profiles + singleton dirs', color: '#6d4c41', values: rows.map((r) => r.profiles + r.otherTmp) },
  ], { unit: '' })}
${panel(3, 'Time per handoff', rows, [
    { label: 'SIGHUP to successor ready', color: '#2e7d32', values: rows.map((r) => r.readyMs) },
    { label: 'SIGHUP to old process exit', color: '#90a4ae', values: rows.map((r) => r.oldExitMs) },
  ], { unit: 'ms', bars: true })}
${panel(4, 'Failed requests during each handoff, and the 1-minute load average of the 2-core machine', rows, [
    { label: 'failed requests', color: '#e53935', values: failed },
    { label: 'load average', color: '#6d4c41', values: rows.map((r) => r.load1) },
  ], { unit: '', bars: true })}
${ticks.join('\n')}
</svg>
`;
}
