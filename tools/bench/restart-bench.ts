// Restart under load: the same open-loop load and a restart of both instances,
// side by side in one run, for (a) this project (restart-cli rolling + the
// shipped nginx config), (b) the naive way (NestJS defaults, SIGTERM and start
// again, the original nginx config, `sleep 10` between instances) and (c) `pm2
// reload` of the naive app in cluster mode. Failed requests by kind, p50/p99
// latency during the restart against steady state, restart duration.
// Not a test: it asserts nothing. JSON on stdout, a markdown table on stderr.
//
// Run (from the workspace root, after `npx nx run-many -t build -p api restart-cli`):
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/restart-bench.ts
//   or: npx nx run deployment:restart-bench
// Options: --rates 200,500  --only project,naive,pm2  --steady 5  --after 3  --qc-per-sec 2
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { API_MAIN, CLI_MAIN, isFailure, nginxProblems, qcMix, requireBuilt, startLoad, summarize, windowStats } from '@edu-agents/e2e-support';
import { SCENARIOS, type ScenarioName } from './restart-bench.scenarios';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '200,500' },
    only: { type: 'string', default: 'project,naive,pm2' },
    steady: { type: 'string', default: '5' },
    after: { type: 'string', default: '3' },
    'qc-per-sec': { type: 'string', default: '2' },
  },
});
const RATES = values.rates.split(',').map(Number);
const NAMES = values.only.split(',') as ScenarioName[];
const STEADY_MS = Number(values.steady) * 1_000;
const AFTER_MS = Number(values.after) * 1_000;
const QC_PER_SEC = Number(values['qc-per-sec']);
const LABELS: Record<ScenarioName, string> = { project: '(a) this project', naive: '(b) naive: SIGTERM + start, original nginx', pm2: '(c) pm2 reload, cluster x2' };

interface Row {
  approach: string; rate: number; restartMs: number; requests: number; failed: number; failedByKind: Record<string, number>;
  steady: { p50Ms: number; p99Ms: number }; restart: { p50Ms: number; p99Ms: number }; p99Ratio: number;
  maxSendLagMs: number;
  /** p50/p99 per request label in each window: where the tail comes from. */
  byLabel: Record<string, { steady: [number, number]; restart: [number, number] }>;
  oldPids: number[]; newPids: number[]; note: string; nginxErrors: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(name: ScenarioName, rate: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), `restart-bench-${name}-`));
  const scenario = await SCENARIOS[name](dir);
  try {
    // QC POSTs at a fixed QC_PER_SEC whatever the rate: the Chrome pool's capacity does not grow with the rate.
    const load = startLoad({ port: scenario.nginx.port, ratePerSec: rate, maxDurationMs: 300_000, baseClients: 64, maxClients: 2_048,
      request: qcMix(Math.max(1, Math.round(rate / QC_PER_SEC))) });
    let restartFrom = 0;
    let restartTo = 0;
    let pids = { oldPids: [] as number[], newPids: [] as number[], note: '' };
    try {
      await sleep(STEADY_MS);
      restartFrom = load.elapsed();
      try {
        pids = await scenario.restart();
      } catch (error) {
        // A restart that gives up is a result of this row, not the end of the benchmark.
        pids.note = `RESTART FAILED: ${error instanceof Error ? error.message : String(error)}`;
        process.stderr.write(`  ${pids.note}\n`);
      }
      restartTo = load.elapsed();
      await sleep(AFTER_MS);
    } finally {
      load.stop();
    }
    const run = await load.done;
    const s = summarize(run, [{ name: 'steady', fromMs: 1_000, toMs: restartFrom }, { name: 'restart', fromMs: restartFrom, toMs: restartTo }]);
    const failedByKind: Record<string, number> = { ...s.all.byError };
    for (const r of run.records.filter((x) => isFailure(x) && x.error === undefined)) failedByKind[`HTTP ${r.status}`] = (failedByKind[`HTTP ${r.status}`] ?? 0) + 1;
    const [steady, restart] = s.windows;
    const byLabel: Row['byLabel'] = {};
    for (const label of Object.keys(s.byLabel)) {
      const inWindow = (from: number, to: number) => windowStats(label, run.records.filter((r) => r.label === label && r.scheduledMs >= from && r.scheduledMs < to));
      const a = inWindow(1_000, restartFrom);
      const b = inWindow(restartFrom, restartTo);
      byLabel[label] = { steady: [a.p50Ms, a.p99Ms], restart: [b.p50Ms, b.p99Ms] };
    }
    return {
      approach: LABELS[name], rate, restartMs: Math.round(restartTo - restartFrom), requests: s.outcomes, failed: s.all.failed, failedByKind,
      steady: { p50Ms: steady.p50Ms, p99Ms: steady.p99Ms }, restart: { p50Ms: restart.p50Ms, p99Ms: restart.p99Ms },
      p99Ratio: Math.round((restart.p99Ms / Math.max(steady.p99Ms, 0.1)) * 100) / 100, maxSendLagMs: s.all.maxSendLagMs, byLabel,
      ...pids, nginxErrors: nginxProblems(scenario.nginx),
    };
  } finally {
    await scenario.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(rows: Row[]): string {
  const kinds = (k: Record<string, number>) => Object.entries(k).map(([kind, n]) => `${kind}: ${n}`).join(', ') || '-';
  return [
    '| approach | req/s | requests | failed | failed by kind | steady p50 / p99 (ms) | restart p50 / p99 (ms) | p99 restart/steady | restart took (s) | send lag max (ms) |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.approach}${r.note.startsWith('RESTART FAILED') ? ' (restart failed)' : ''} | ${r.rate} | ${r.requests} | ${r.failed} | ${kinds(r.failedByKind)} | ${r.steady.p50Ms} / ${r.steady.p99Ms} | ` +
      `${r.restart.p50Ms} / ${r.restart.p99Ms} | ${r.p99Ratio} | ${(r.restartMs / 1_000).toFixed(1)} | ${r.maxSendLagMs} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  requireBuilt(API_MAIN, CLI_MAIN);
  const rows: Row[] = [];
  for (const rate of RATES) {
    for (const name of NAMES) {
      process.stderr.write(`${LABELS[name]} at ${rate}/s ...\n`);
      const row = await measure(name, rate);
      process.stderr.write(`  failed ${row.failed} ${JSON.stringify(row.failedByKind)}, p99 steady ${row.steady.p99Ms} ms, restart ${row.restart.p99Ms} ms, took ${row.restartMs} ms\n`);
      rows.push(row);
    }
  }
  const result = { date: new Date().toISOString(), node: process.version, steadyMs: STEADY_MS, afterMs: AFTER_MS, qcPerSec: QC_PER_SEC, rows };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`\n${markdown(rows)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
