// What a QC pool's start costs in Chromium CPU, by phase: the browser up to its DevTools pipe,
// the slots (a context, a page and its guard each, and the warm-up render where it is on), and
// what Chromium still does in the 2 s after the pool says it started. A successor pays all of it
// during a handoff, while the old process serves; this says which part to look at.
// The pool's defaults (QC_POOL_DEFAULTS), with and without the warm-up render, taking turns: the
// difference of the two is the render's share.
// Run: SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/qc-start-cost.bench.ts [--runs 3]
// JSON on stdout, a table on stderr.
import { CLOCK_TICKS_PER_SEC, descendantsOf, listProcs, QC_POOL_DEFAULTS, QcPool, readProc } from '@edu-agents/qc-chrome-pool';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'after-ms': { type: 'string', default: '2000' } } });
const RUNS = Number(values.runs);
const AFTER_MS = Number(values['after-ms']);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs ${values.runs}: expected a whole number of at least 1`);
if (!Number.isFinite(AFTER_MS) || AFTER_MS < 0) throw new Error(`--after-ms ${values['after-ms']}: expected milliseconds, 0 or more`);

/** CPU ms of everything this process started: live descendants plus children already reaped. */
function chromeCpuMs(): number {
  const reaped = readProc(process.pid)?.reapedChildTicks ?? 0;
  const ticks = reaped + descendantsOf(process.pid, listProcs()).reduce((sum, p) => sum + p.cpuTicks, 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SEC;
}

interface Start { warmUpRender: boolean; wallMs: number; browserMs: number; slotsMs: number; afterMs: number; totalMs: number; nodeMs: number }

async function measure(warmUpRender: boolean): Promise<Start> {
  const nodeBefore = process.cpuUsage();
  // Counts from here: the pools measured before left their reaped ticks behind.
  const base = chromeCpuMs();
  const t0 = performance.now();
  let browser: number | undefined;
  const pool = await QcPool.launch({
    ...QC_POOL_DEFAULTS,
    warmUpRender,
    // The browser answers on its pipe before the slots open their pages.
    log: (_level, message) => {
      if (browser === undefined && message.startsWith('Chrome started')) browser = chromeCpuMs() - base;
    },
  });
  const wallMs = performance.now() - t0;
  const started = chromeCpuMs() - base;
  await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
  const after = chromeCpuMs() - base;
  const node = process.cpuUsage(nodeBefore);
  await pool.close({ deadlineMs: 10_000 });
  if (browser === undefined) throw new Error('the pool never logged "Chrome started"; its log lines changed?');
  return {
    warmUpRender, wallMs: Math.round(wallMs), browserMs: Math.round(browser), slotsMs: Math.round(started - browser),
    afterMs: Math.round(after - started), totalMs: Math.round(after), nodeMs: Math.round((node.user + node.system) / 1000),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;

async function main(): Promise<void> {
  const runs: Start[] = [];
  // Taking turns, so that a busy moment of the machine lands on both alike.
  for (let i = 0; i < RUNS; i += 1) for (const warm of i % 2 === 0 ? [true, false] : [false, true]) runs.push(await measure(warm));
  const summary = [true, false].map((warm) => {
    const mine = runs.filter((r) => r.warmUpRender === warm);
    const of = (key: keyof Omit<Start, 'warmUpRender'>) => median(mine.map((r) => r[key]));
    return { warmUpRender: warm, runs: mine.length, wallMs: of('wallMs'), browserMs: of('browserMs'), slotsMs: of('slotsMs'), afterMs: of('afterMs'), totalMs: of('totalMs'), nodeMs: of('nodeMs') };
  });
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, slots: QC_POOL_DEFAULTS.browsers * QC_POOL_DEFAULTS.pagesPerBrowser, afterWindowMs: AFTER_MS, summary, runs }, null, 2)}\n`);
  const rows = summary.map((s) => `| ${s.warmUpRender ? 'on' : 'off'} | ${s.runs} | ${s.wallMs} | ${s.browserMs} | ${s.slotsMs} | ${s.afterMs} | ${s.totalMs} | ${s.nodeMs} |`);
  process.stderr.write(
    [
      `QC pool start, Chromium CPU ms by phase (medians; ${QC_POOL_DEFAULTS.browsers} browser, ${QC_POOL_DEFAULTS.pagesPerBrowser} slots):`,
      `| warm-up render | runs | wall to started | browser to its pipe | slots (pages, render) | ${AFTER_MS} ms after | Chromium total | node process |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`qc-start-cost: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
