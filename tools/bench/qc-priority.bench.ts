// What running Chromium below the event loop costs QC (issue 15): the built API
// with QC on, under an open-loop load of GET /qc-stats plus QC renders of
// distinct lessons (load in a process of its own), once per Chromium priority
// (QC_CHROME_NICE 0, 10, 19), interleaved in rounds so that a busy neighbour
// costs every setting alike. Per setting and rate: QC render latency (p50, p95,
// p99) and the HTTP path's p99, plus the load's send lag. No restart here: this
// is the steady-state price; what the priority buys at a restart is in
// restart-bench.ts. Prints a table on stderr and JSON on stdout.
//
//   npx nx build api
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/qc-priority.bench.ts [--rates 0,200,500] [--nices 0,10,19] [--seconds 10] [--rounds 2] [--qc-per-sec 2]
import { killLeftoverApis, LOAD_API_ENV, percentile, qcMix, startApi, startLoadProcess, stopProcesses, waitReady, type LoadMix } from '@edu-agents/e2e-support';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '0,200,500' },
    nices: { type: 'string', default: '0,10,19' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    'qc-per-sec': { type: 'string', default: '2' },
  },
});
const RATES = values.rates.split(',').map(Number);
const NICES = values.nices.split(',').map(Number);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const QC_PER_SEC = Number(values['qc-per-sec']);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** QC alone at `qcPerSec` when `rate` is 0, else GETs with a QC render every rate/qcPerSec requests. */
function mixFor(rate: number): { total: number; mix: LoadMix } {
  if (rate === 0) return { total: QC_PER_SEC, mix: qcMix(1) };
  return { total: rate, mix: qcMix(Math.max(1, Math.round(rate / QC_PER_SEC))) };
}

interface Cell { nice: number; rate: number; qc: number[]; http: number[]; failed: number; sendLagP99: number[] }

async function measure(nice: number, rate: number, cell: Cell): Promise<void> {
  const api = await startApi({ ...LOAD_API_ENV, QC_CHROME_NICE: nice }, { timeoutMs: 120_000 });
  try {
    await waitReady(api.port, 120_000);
    const { total, mix } = mixFor(rate);
    const load = await startLoadProcess({ port: api.port, ratePerSec: total, maxDurationMs: (SECONDS + 60) * 1_000, baseClients: 64, maxClients: 2_048, mix });
    // The first 3 s warm the pages and the JIT; the measured window is the rest.
    await new Promise((resolve) => setTimeout(resolve, (SECONDS + 3) * 1_000));
    load.stop();
    const report = await load.done;
    for (const r of report.run.records.filter((x) => x.scheduledMs >= 3_000)) {
      if (r.error !== undefined || (r.status !== undefined && r.status >= 400)) cell.failed += 1;
      else (r.label.startsWith('POST /qc/') ? cell.qc : cell.http).push(r.endMs - r.scheduledMs);
    }
    cell.sendLagP99.push(report.sendLag.p99Ms);
  } finally {
    await stopProcesses([api.pid], 15_000);
  }
}

async function main(): Promise<void> {
  const cells = new Map<string, Cell>();
  const started = new Date().toISOString();
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const rate of RATES) {
      for (const nice of NICES) {
        const key = `${nice}/${rate}`;
        const cell = cells.get(key) ?? { nice, rate, qc: [], http: [], failed: 0, sendLagP99: [] };
        cells.set(key, cell);
        log(`round ${round}: QC_CHROME_NICE=${nice} at ${rate} req/s ...`);
        await measure(nice, rate, cell);
      }
    }
  }
  const ms = (xs: number[], q: number) => Math.round(percentile([...xs].sort((a, b) => a - b), q) * 10) / 10;
  const rows = [...cells.values()].map((c) => ({
    nice: c.nice, rate: c.rate, qcRenders: c.qc.length, qcP50Ms: ms(c.qc, 0.5), qcP95Ms: ms(c.qc, 0.95), qcP99Ms: ms(c.qc, 0.99),
    httpRequests: c.http.length, httpP99Ms: ms(c.http, 0.99), failed: c.failed, sendLagP99Ms: Math.max(...c.sendLagP99),
  }));
  log(['', '| QC_CHROME_NICE | GET req/s | QC renders | QC p50 / p95 / p99 (ms) | HTTP p99 (ms) | failed | send lag p99 (ms) |', '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.nice} | ${r.rate} | ${r.qcRenders} | ${r.qcP50Ms} / ${r.qcP95Ms} / ${r.qcP99Ms} | ${r.httpRequests ? r.httpP99Ms : '-'} | ${r.failed} | ${r.sendLagP99Ms} |`)].join('\n'));
  process.stdout.write(`${JSON.stringify({ date: started, finished: new Date().toISOString(), loadavg: loadavg(), seconds: SECONDS, rounds: ROUNDS, qcPerSec: QC_PER_SEC, rows }, null, 2)}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void killLeftoverApis().finally(() => process.exit(130)));
main().catch((error: unknown) => {
  process.stderr.write(`qc-priority: ${(error as Error).stack ?? String(error)}\n${String((error as Error).cause ?? "")}\n`);
  process.exitCode = 1;
});
