// What a QC pool's start costs in Chromium CPU, by phase: the browser up to its DevTools pipe,
// the slots (a context, a page and its guard each, and the warm-up render where it is on), and
// what Chromium still does in the 2 s after the pool says it started. A successor pays all of it
// during a handoff, while the old process serves; this says which part to look at.
// Four set-ups take turns: the pool's defaults (QC_POOL_DEFAULTS); without the warm-up render
// (the difference is the render's share); with Chromium's first tab, which the launch no longer
// opens (--no-startup-window), through a wrapper that drops that flag; and with the omnibox's
// WebUI popups that headless Chromium preloads for every window, through a wrapper that takes
// WebUIOmniboxPopup and WebUIOmniboxAimPopup out of --disable-features. After the 2 s it also
// counts the renderer processes and the Chromium tree's proportional memory (PSS). Where the Chromium
// it starts is not Debian's launcher script /usr/bin/chromium, a fifth set-up starts through that script.
// Run: SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/qc-start-cost.bench.ts [--runs 3]
// JSON on stdout, a table on stderr.
import { CLOCK_TICKS_PER_SEC, QC_POOL_DEFAULTS, QcPool, descendantsOf, resolveChromePath } from '@edu-agents/qc-chrome-pool';
import { pssKb } from '@edu-agents/e2e-support';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { treeCpuTicks } from './qc-bench.runners';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'after-ms': { type: 'string', default: '2000' } } });
const RUNS = Number(values.runs);
const AFTER_MS = Number(values['after-ms']);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs ${values.runs}: expected a whole number of at least 1`);
if (!Number.isFinite(AFTER_MS) || AFTER_MS < 0) throw new Error(`--after-ms ${values['after-ms']}: expected milliseconds, 0 or more`);

/** CPU ms of everything this process started (Chromium, as the pool is all it starts). */
const chromeCpuMs = () => (treeCpuTicks() * 1000) / CLOCK_TICKS_PER_SEC;

interface Arm { name: string; warmUpRender: boolean; chromePath?: string }
interface Start { arm: string; wallMs: number; browserMs: number; slotsMs: number; afterMs: number; totalMs: number; nodeMs: number; renderers: number; pssMb: number }

/** The renderer processes this process has started, and the PSS (MB) of all it started (Chromium). */
function chromeFootprint(): { renderers: number; pssMb: number } {
  const tree = descendantsOf(process.pid).filter((p) => p.state !== 'Z');
  const renderers = tree.filter((p) => p.cmdline.includes('--type=renderer')).length;
  return { renderers, pssMb: Math.round(tree.reduce((sum, p) => sum + pssKb(p.pid), 0) / 1024) };
}

async function measure(arm: Arm): Promise<Start> {
  const nodeBefore = process.cpuUsage();
  // Counts from here: the pools measured before left their reaped ticks behind.
  const base = chromeCpuMs();
  const t0 = performance.now();
  let browser: number | undefined;
  const pool = await QcPool.launch({
    ...QC_POOL_DEFAULTS,
    warmUpRender: arm.warmUpRender,
    ...(arm.chromePath ? { chromePath: arm.chromePath } : {}),
    // The browser answers on its pipe before the slots open their pages.
    log: (_level, message) => {
      if (browser === undefined && message.startsWith('Chrome started')) browser = chromeCpuMs() - base;
    },
  });
  const wallMs = performance.now() - t0;
  const started = chromeCpuMs() - base;
  await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
  const after = chromeCpuMs() - base;
  const footprint = chromeFootprint();
  const node = process.cpuUsage(nodeBefore);
  await pool.close({ deadlineMs: 10_000 });
  if (browser === undefined) throw new Error('the pool never logged "Chrome started"; its log lines changed?');
  return {
    arm: arm.name, wallMs: Math.round(wallMs), browserMs: Math.round(browser), slotsMs: Math.round(started - browser),
    afterMs: Math.round(after - started), totalMs: Math.round(after), nodeMs: Math.round((node.user + node.system) / 1000), ...footprint,
  };
}

const DEBIAN_LAUNCHER = '/usr/bin/chromium';

/** Debian's launcher script, where it is here and is not what the others start anyway. */
function debianLauncher(chrome: string): string | undefined {
  if (chrome === DEBIAN_LAUNCHER) return undefined;
  try {
    return resolveChromePath(DEBIAN_LAUNCHER);
  } catch {
    return undefined; // not installed, or not executable
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;

/** A script that runs the real Chromium with each argument passed through `edit` (a sh snippet on "$a"; empty drops it). */
function wrapper(dir: string, name: string, chrome: string, edit: string): string {
  const file = join(dir, name);
  const script = ['#!/bin/sh', `for a; do shift; ${edit}; [ -z "$a" ] || set -- "$@" "$a"; done`, `exec ${JSON.stringify(chrome)} "$@"`, ''];
  writeFileSync(file, script.join('\n'));
  chmodSync(file, 0o755);
  return file;
}

/** A Chromium that opens its first tab again: the real one, without --no-startup-window. */
const firstTabWrapper = (dir: string, chrome: string) => wrapper(dir, 'chromium-with-first-tab', chrome, '[ "$a" = --no-startup-window ] && a=');

/** A Chromium that preloads its omnibox popups again: the two features out of --disable-features. */
const omniboxWrapper = (dir: string, chrome: string) =>
  wrapper(dir, 'chromium-with-omnibox-popups', chrome,
    'case "$a" in --disable-features=*) a=$(printf %s "$a" | sed -E \'s/(=|,)WebUIOmnibox(Aim)?Popup(,|$)/\\1/g; s/(=|,)WebUIOmnibox(Aim)?Popup(,|$)/\\1/g; s/,$//\');; esac');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qc-start-cost-'));
  try {
    const chrome = resolveChromePath(process.env['CHROME_PATH']);
    const launcher = debianLauncher(chrome);
    const arms: Arm[] = [
      { name: 'defaults', warmUpRender: true, chromePath: chrome },
      { name: 'no warm-up render', warmUpRender: false, chromePath: chrome },
      { name: 'with the first tab', warmUpRender: true, chromePath: firstTabWrapper(dir, chrome) },
      { name: 'with the omnibox popups', warmUpRender: true, chromePath: omniboxWrapper(dir, chrome) },
      // Debian's /usr/bin/chromium is a shell script that runs about a dozen commands, adds flags of its own and
      // execs the binary: what every start paid while it was the first candidate.
      ...(launcher ? [{ name: "through Debian's launcher", warmUpRender: true, chromePath: launcher }] : []),
    ];
    const runs: Start[] = [];
    // Taking turns, forward then backward, so that a busy moment of the machine lands on every set-up alike.
    for (let i = 0; i < RUNS; i += 1) for (const arm of i % 2 === 0 ? arms : [...arms].reverse()) runs.push(await measure(arm));
    const summary = arms.map(({ name }) => {
      const mine = runs.filter((r) => r.arm === name);
      const of = (key: keyof Omit<Start, 'arm'>) => median(mine.map((r) => r[key]));
      return { arm: name, runs: mine.length, wallMs: of('wallMs'), browserMs: of('browserMs'), slotsMs: of('slotsMs'), afterMs: of('afterMs'), totalMs: of('totalMs'), nodeMs: of('nodeMs'), renderers: of('renderers'), pssMb: of('pssMb') };
    });
    const slots = QC_POOL_DEFAULTS.browsers * QC_POOL_DEFAULTS.pagesPerBrowser;
    process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, chrome, slots, afterWindowMs: AFTER_MS, summary, runs }, null, 2)}\n`);
    const rows = summary.map((s) => `| ${s.arm} | ${s.runs} | ${s.wallMs} | ${s.browserMs} | ${s.slotsMs} | ${s.afterMs} | ${s.totalMs} | ${s.nodeMs} | ${s.renderers} | ${s.pssMb} |`);
    process.stderr.write(
      [
        `QC pool start, Chromium CPU ms by phase (medians; ${QC_POOL_DEFAULTS.browsers} browser, ${slots} slots):`,
        `| set-up | runs | wall to started | browser to its pipe | slots (pages, render) | ${AFTER_MS} ms after | Chromium total | node process | renderers | Chromium PSS (MB) |`,
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`qc-start-cost: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
