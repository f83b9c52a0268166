// Soak of the hot handoff (issue 16): N consecutive handoffs of the real API (QC on,
// real Chromium) under open-loop load from a process of its own, with QC jobs in
// flight the whole time. After each handoff, once the old process has exited and a
// settle stretch passed, the serving process is measured: its RSS, its own fds (not
// the load's keep-alive connections), the Chromium processes of the run (their
// command line names the run's own TMPDIR), the profile and other directories the run
// left in that TMPDIR, and how long the handoff took. CI runs 20 of these
// (handoff-repeat.e2e-spec.ts); this is the long one, by hand.
//
// Prints a table on stderr and JSON on stdout, writes the JSON and an SVG to
// tools/bench/results/.
//
//   npx nx build api
//   /work/bin/heavy env SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/handoff-soak.bench.ts [--handoffs 100] [--rate 100] [--qc-every 50] [--settle 2]
import {
  chromiumMentioning, isFailure, judgeLoad, killLeftoverApis, LOAD_API_ENV, openFds, qcMix, readPid, rssKb, startApi, startLoadProcess, summarize, track, waitFor, waitReady,
  type RequestRecord,
} from '@edu-agents/e2e-support';
import { check } from '@edu-agents/health-client';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { soakSvg, type SoakRow } from './handoff-soak.svg';

/** The requests that failed (no 2xx answer). */
const failedRecords = (run: { records: RequestRecord[] }) => run.records.filter(isFailure);

const { values } = parseArgs({
  options: {
    handoffs: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100' },
    'qc-every': { type: 'string', default: '50' },
    settle: { type: 'string', default: '3' },
    'keep-log': { type: 'string' },
  },
});
const HANDOFFS = Number(values.handoffs);
const RATE = Number(values.rate);
const QC_EVERY = Number(values['qc-every']);
const SETTLE_MS = Number(values.settle) * 1000;
/** Readings per measurement, 200 ms apart. */
const SAMPLES = 15;
for (const [name, value] of Object.entries({ handoffs: HANDOFFS, rate: RATE, 'qc-every': QC_EVERY, settle: SETTLE_MS })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${String(value)}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !Number.isNaN(rssKb(pid)); // a zombie has no VmRSS line
  } catch {
    return false;
  }
}

/**
 * RSS over the successors as a trend rather than two points: the median of the 3rd to
 * 12th against the last ten, and the least-squares slope in MB per 100 handoffs.
 */
function rssTrend(rows: SoakRow[]): { firstTenMedianMb: number; lastTenMedianMb: number; driftPercent: number; slopeMbPer100: number } {
  const early = median(rows.filter((r) => r.handoff >= 3 && r.handoff <= 12).map((r) => r.rssMb));
  const late = median(rows.slice(-10).map((r) => r.rssMb));
  const xs = rows.map((r) => r.handoff);
  const ys = rows.map((r) => r.rssMb);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / (xs.reduce((a, x) => a + (x - mx) ** 2, 0) || 1);
  return { firstTenMedianMb: early, lastTenMedianMb: late, driftPercent: Math.round(((late - early) / early) * 1000) / 10, slopeMbPer100: Math.round(slope * 100 * 10) / 10 };
}

/** One handoff: SIGHUP to the pid in the pid file; done when the successor answers ready in the pid file and the old pid is gone. */
async function handOff(pidFile: string, port: number): Promise<{ oldPid: number; newPid: number; readyMs: number; oldExitMs: number; sighupAt: number }> {
  const oldPid = readPid(pidFile);
  if (oldPid === undefined) throw new Error(`no pid in ${pidFile}`);
  const t0 = Date.now();
  process.kill(oldPid, 'SIGHUP');
  const newPid = await waitFor(`a successor of ${oldPid}`, () => {
    const pid = readPid(pidFile);
    return pid !== undefined && pid !== oldPid ? track(pid) : undefined;
  }, 120_000);
  await waitFor(`pid ${newPid} to answer ready`, async () => {
    const h = await check(`http://127.0.0.1:${port}/health`, { timeoutMs: 5_000 });
    return h.state === 'ready' && h.pid === newPid;
  }, 120_000);
  const readyMs = Date.now() - t0;
  await waitFor(`pid ${oldPid} to exit`, () => !isRunning(oldPid), 120_000);
  return { oldPid, newPid, readyMs, oldExitMs: Date.now() - t0, sighupAt: t0 };
}

/**
 * The serving process as it stands: medians of SAMPLES readings 200 ms apart. RSS moves by
 * 20 % with a garbage collection (measured: 83-119 MB across successors read once each),
 * so one reading says little about a process; the spread within the window is kept too.
 */
async function measure(pid: number, port: number, runTmp: string): Promise<Pick<SoakRow, 'rssMb' | 'rssSpreadMb' | 'ownFds' | 'chromium' | 'profiles' | 'otherTmp'>> {
  const readings: { rss: number; fds: number; chromium: number }[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    if (i > 0) await sleep(200);
    readings.push({ rss: rssKb(pid), fds: openFds(pid, port).own, chromium: chromiumMentioning(runTmp).length });
  }
  const entries = readdirSync(runTmp);
  return {
    rssMb: Math.round((median(readings.map((r) => r.rss)) / 1024) * 10) / 10,
    rssSpreadMb: Math.round(((Math.max(...readings.map((r) => r.rss)) - Math.min(...readings.map((r) => r.rss))) / 1024) * 10) / 10,
    ownFds: median(readings.map((r) => r.fds)),
    chromium: median(readings.map((r) => r.chromium)),
    profiles: entries.filter((e) => e.startsWith('edu-agents-qc-')).length,
    otherTmp: entries.filter((e) => !e.startsWith('edu-agents-qc-')).length,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edu-handoff-soak-'));
  const runTmp = join(dir, 'tmp');
  mkdirSync(runTmp);
  const pidFile = join(dir, 'api.pid');
  const rows: SoakRow[] = [];
  const windows: { handoff: number; fromEpoch: number; toEpoch: number }[] = [];
  const started = Date.now();
  const api = await startApi({ ...LOAD_API_ENV, LOG_FORMAT: 'json', TMPDIR: runTmp, SHUTDOWN_TIMEOUT_MS: 5_000 }, { pidFile, timeoutMs: 90_000 });
  let report;
  try {
    await waitReady(api.port, 90_000);
    const load = await startLoadProcess({
      port: api.port, ratePerSec: RATE, maxDurationMs: 4 * 3_600_000, baseClients: 32, maxClients: 1_024, timeoutMs: 30_000, mix: qcMix(QC_EVERY),
    });
    try {
      await sleep(SETTLE_MS); // a steady stretch before the first measurement, as before every later one
      const first = await measure(api.pid, api.port, runTmp);
      rows.push({ handoff: 0, pid: api.pid, readyMs: 0, oldExitMs: 0, atS: (Date.now() - started) / 1000, load1: loadavg()[0], ...first });
      for (let i = 1; i <= HANDOFFS; i += 1) {
        const load1 = loadavg()[0];
        const { newPid, readyMs, oldExitMs, sighupAt } = await handOff(pidFile, api.port);
        windows.push({ handoff: i, fromEpoch: sighupAt, toEpoch: sighupAt + oldExitMs });
        await sleep(SETTLE_MS); // the same stretch of load before each measurement
        rows.push({ handoff: i, pid: newPid, readyMs, oldExitMs, atS: (Date.now() - started) / 1000, load1, ...(await measure(newPid, api.port, runTmp)) });
        const r = rows.at(-1) as SoakRow;
        process.stderr.write(`handoff ${i}/${HANDOFFS}: pid ${newPid} ready in ${readyMs} ms, old exited at ${oldExitMs} ms; RSS ${r.rssMb} MB, fds ${r.ownFds}, Chromium ${r.chromium}, profiles ${r.profiles}, other tmp ${r.otherTmp}\n`);
      }
    } finally {
      load.stop();
      report = await load.done;
    }
  } finally {
    if (values['keep-log']) writeFileSync(values['keep-log'], api.output());
    await killLeftoverApis(15_000);
    rmSync(dir, { recursive: true, force: true });
  }

  // Each failure with the handoff it fell into (from SIGHUP to the old process's exit), or none.
  const failures = failedRecords(report.run).map((r) => {
    const at = report.run.t0Epoch + r.scheduledMs;
    const during = windows.find((w) => at >= w.fromEpoch && at <= w.toEpoch)?.handoff ?? null;
    return { index: r.index, label: r.label, atS: Math.round((at - started) / 100) / 10, duringHandoff: during, status: r.status, error: r.error, detail: r.detail, ms: Math.round(r.endMs - r.scheduledMs) };
  });

  const summary = summarize(report.run);
  const verdict = judgeLoad(report.run, { ports: new Set() });
  const byCause: Record<string, number> = {};
  for (const f of failures) {
    const cause = f.error ?? `${f.status} ${(/"message":"([^"]{0,80})/.exec(f.detail ?? '')?.[1] ?? '').trim()}`;
    byCause[cause] = (byCause[cause] ?? 0) + 1;
  }
  const successors = rows.filter((r) => r.handoff >= 1);
  const third = rows.find((r) => r.handoff === 3);
  const last = rows.at(-1) as SoakRow;
  const result = {
    date: new Date().toISOString(),
    loadavg: loadavg(),
    options: { handoffs: HANDOFFS, ratePerSec: RATE, qcEvery: QC_EVERY, settleMs: SETTLE_MS },
    requests: summary.all.requests,
    failed: summary.all.failed,
    byStatus: summary.all.byStatus,
    byError: summary.all.byError,
    violations: verdict.violations.length,
    failuresByCause: byCause,
    failuresDuringHandoffs: failures.filter((f) => f.duringHandoff !== null).length,
    failures: failures.slice(0, 500),
    qc: summary.byLabel['POST /qc/check'],
    sendLag: report.sendLag,
    rssDriftThirdToLast: third ? Math.round(((last.rssMb - third.rssMb) / third.rssMb) * 1000) / 10 : null,
    rssTrend: rssTrend(successors),
    chromium: { min: Math.min(...successors.map((r) => r.chromium)), max: Math.max(...successors.map((r) => r.chromium)) },
    ownFds: { min: Math.min(...successors.map((r) => r.ownFds)), max: Math.max(...successors.map((r) => r.ownFds)) },
    readyMs: { median: median(successors.map((r) => r.readyMs)), max: Math.max(...successors.map((r) => r.readyMs)) },
    oldExitMs: { median: median(successors.map((r) => r.oldExitMs)), max: Math.max(...successors.map((r) => r.oldExitMs)) },
    rows,
  };
  const results = join(__dirname, 'results');
  mkdirSync(results, { recursive: true });
  const stamp = `${result.date.slice(0, 13)}${result.date.slice(14, 16)}Z`; // 2026-12-03T1029Z
  writeFileSync(join(results, `handoff-soak-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(results, `handoff-soak-${stamp}.svg`), soakSvg(rows, result));
  const head = '| handoff | pid | load avg | ready (ms) | old exit (ms) | RSS (MB) | RSS spread (MB) | own fds | Chromium | profiles | other tmp |';
  const table = [head, '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|', ...rows.map((r) => `| ${r.handoff} | ${r.pid} | ${r.load1.toFixed(1)} | ${r.readyMs} | ${r.oldExitMs} | ${r.rssMb} | ${r.rssSpreadMb} | ${r.ownFds} | ${r.chromium} | ${r.profiles} | ${r.otherTmp} |`)];
  process.stderr.write([
    `${HANDOFFS} handoffs at ${RATE} req/s (a QC render every ${QC_EVERY} requests): ${result.requests} requests, ${result.failed} failed ${JSON.stringify(result.byError)} ${JSON.stringify(result.byStatus)}`,
    `failures by cause ${JSON.stringify(byCause)}; ${result.failuresDuringHandoffs} of them between a SIGHUP and the old process's exit`,
    `RSS drift from the 3rd to the last successor ${result.rssDriftThirdToLast} % (medians of ten: ${result.rssTrend.driftPercent} %, slope ${result.rssTrend.slopeMbPer100} MB per 100 handoffs); Chromium ${result.chromium.min}-${result.chromium.max}; own fds ${result.ownFds.min}-${result.ownFds.max}; ready median ${result.readyMs.median} ms (max ${result.readyMs.max}); send lag p99 ${report.sendLag.p99Ms} ms`,
    ...table,
  ].join('\n') + '\n');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`handoff-soak: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
