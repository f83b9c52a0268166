// Memory during a hot handoff (issue 9): for a moment two API processes, each
// with its own Chromium pool, exist side by side. This samples the proportional
// set size (PSS, shared pages divided among their users, so Chromium's many
// processes are not counted many times over) of both process trees every
// 100 ms: steady state with one instance, the peak during the handoff, and
// after it, all in one run. It also counts each tree's Chromium processes: how
// long the old tree's Chromium outlives the switch (the successor's ready), and
// how long two Chromium trees exist at once. Prints a table on stderr and JSON on
// stdout, and writes an SVG of the samples next to the other results.
//
//   npx nx build api
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/handoff-memory.bench.ts [--rounds 3]
import { killLeftoverApis, LOAD_API_ENV, processParents, processTree, pssKb, qcMix, readPid, startApi, startLoad, track, waitFor, waitReady } from '@edu-agents/e2e-support';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, steady: { type: 'string', default: '5' } } });
const ROUNDS = Number(values.rounds);
const STEADY_MS = Number(values.steady) * 1000;

interface Sample { ms: number; oldKb: number; newKb: number; processes: number; oldChromium: number; newChromium: number }

/** Chromium processes among `pids` (their command line names the browser). */
function chromium(pids: number[]): number {
  return pids.filter((pid) => {
    try {
      return /chrom/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false; // gone meanwhile
    }
  }).length;
}

async function round(dir: string): Promise<{ samples: Sample[]; signalMs: number; readyMs: number; exitMs: number }> {
  const pidFile = join(dir, 'api.pid');
  const api = await startApi({ ...LOAD_API_ENV, SHUTDOWN_TIMEOUT_MS: 5_000 }, { pidFile, timeoutMs: 90_000 });
  await waitReady(api.port);
  const load = startLoad({ port: api.port, ratePerSec: 50, maxDurationMs: 300_000, baseClients: 16, request: qcMix(25) });
  const t0 = Date.now();
  const oldPid = api.pid;
  let newPid: number | undefined;
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const ppid = processParents();
    const oldTree = processTree(oldPid, ppid);
    // While the old process lives, the successor's tree is a subtree of it.
    const newTree = processTree(newPid, ppid);
    const oldOnly = oldTree.filter((p) => !newTree.includes(p));
    samples.push({
      ms: Date.now() - t0, oldKb: oldOnly.reduce((s, p) => s + pssKb(p), 0), newKb: newTree.reduce((s, p) => s + pssKb(p), 0),
      processes: oldOnly.length + newTree.length, oldChromium: chromium(oldOnly), newChromium: chromium(newTree),
    });
  }, 100);
  try {
    await new Promise((resolve) => setTimeout(resolve, STEADY_MS)); // a measured steady stretch
    const signalMs = Date.now() - t0;
    api.signal('SIGHUP');
    newPid = await waitFor('the successor', async () => {
      const h = await fetch(`${api.url}/health`).then((r) => r.json() as Promise<{ details?: { handoff?: { successorPid?: number } } }>).catch(() => undefined);
      return h?.details?.handoff?.successorPid;
    }, 60_000);
    track(newPid);
    await waitFor('the successor to serve', () => readPid(pidFile) === newPid, 120_000);
    const readyMs = Date.now() - t0;
    await api.exited;
    const exitMs = Date.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // after: one instance again
    return { samples, signalMs, readyMs, exitMs };
  } finally {
    clearInterval(sampler);
    load.stop();
    await load.done;
    await killLeftoverApis(10_000);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mb = (kb: number) => Math.round(kb / 1024);

function svg(samples: Sample[], marks: { signalMs: number; readyMs: number; exitMs: number }): string {
  const W = 900, H = 300, L = 60, B = 40, T = 30;
  const maxMs = samples.at(-1)?.ms ?? 1;
  const maxKb = Math.max(...samples.map((s) => s.oldKb + s.newKb), 1);
  const x = (ms: number) => L + (ms / maxMs) * (W - L - 20);
  const y = (kb: number) => H - B - (kb / maxKb) * (H - B - T);
  const area = (top: (s: Sample) => number, bottom: (s: Sample) => number) =>
    `${samples.map((s) => `${x(s.ms).toFixed(1)},${y(top(s)).toFixed(1)}`).join(' ')} ${[...samples].reverse().map((s) => `${x(s.ms).toFixed(1)},${y(bottom(s)).toFixed(1)}`).join(' ')}`;
  const mark = (ms: number, label: string, color: string, row: number) =>
    `<line x1="${x(ms)}" x2="${x(ms)}" y1="${T}" y2="${H - B}" stroke="${color}" stroke-dasharray="4 3"/><text x="${x(ms) - 3}" y="${T + 12 + row * 13}" font-size="11" text-anchor="end" fill="${color}">${label}</text>`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${L - 6}" y="${y(maxKb * f) + 4}" font-size="11" text-anchor="end">${mb(maxKb * f)} MB</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${L}" y="18" font-size="13" font-weight="bold">PSS of both process trees (node + Chromium) during a hot handoff</text>
<polygon points="${area((s) => s.oldKb, () => 0)}" fill="#90a4ae"/>
<polygon points="${area((s) => s.oldKb + s.newKb, (s) => s.oldKb)}" fill="#66bb6a"/>
${ticks}${mark(marks.signalMs, 'SIGHUP', '#111', 0)}${mark(marks.readyMs, 'successor ready', '#2e7d32', 0)}${mark(marks.exitMs, 'old process exits', '#8e24aa', 1)}
<text x="${L}" y="${H - 12}" font-size="11" fill="#546e7a">grey: old process tree   green: successor tree   x: ${(maxMs / 1000).toFixed(1)} s</text>
</svg>\n`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edu-handoff-mem-'));
  const rows = [];
  let lastRun: Awaited<ReturnType<typeof round>> | undefined;
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const run = await round(dir);
      lastRun = run;
      const steady = median(run.samples.filter((s) => s.ms < run.signalMs).map((s) => s.oldKb));
      const peak = Math.max(...run.samples.map((s) => s.oldKb + s.newKb));
      const after = median(run.samples.filter((s) => s.ms > run.exitMs + 500).map((s) => s.newKb));
      const afterSwitch = run.samples.filter((s) => s.ms >= run.readyMs);
      const oldChromiumGone = afterSwitch.find((s) => s.oldChromium === 0)?.ms ?? run.exitMs;
      const both = run.samples.filter((s) => s.oldChromium > 0 && s.newChromium > 0);
      rows.push({
        round: i + 1, steadyMb: mb(steady), peakMb: mb(peak), afterMb: mb(after), peakOverSteady: Number((peak / steady).toFixed(2)),
        twoProcessesForMs: run.exitMs - run.signalMs, successorStartMs: run.readyMs - run.signalMs,
        oldChromiumAfterSwitchMs: oldChromiumGone - run.readyMs, twoChromiumTreesMs: both.length ? (both.at(-1) as Sample).ms - (both[0] as Sample).ms : 0,
        oldExitAfterSwitchMs: run.exitMs - run.readyMs, maxProcesses: Math.max(...run.samples.map((s) => s.processes)),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const results = join(__dirname, 'results');
  mkdirSync(results, { recursive: true });
  if (lastRun) writeFileSync(join(results, 'handoff-memory.svg'), svg(lastRun.samples, lastRun));
  const head = '| round | steady PSS (MB) | peak PSS (MB) | after (MB) | peak / steady | SIGHUP to old exit (ms) | successor start (ms) | old Chromium after the switch (ms) | two Chromium trees (ms) | old exit after the switch (ms) | processes at peak |';
  process.stderr.write([`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`, head, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.round} | ${r.steadyMb} | ${r.peakMb} | ${r.afterMb} | ${r.peakOverSteady} | ${r.twoProcessesForMs} | ${r.successorStartMs} | ${r.oldChromiumAfterSwitchMs} | ${r.twoChromiumTreesMs} | ${r.oldExitAfterSwitchMs} | ${r.maxProcesses} |`)].join('\n') + '\n');
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), rounds: rows }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`handoff-memory: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
