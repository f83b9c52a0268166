// What a successor would pay to take over its predecessor's running Chromium and warm page, against
// launching its own, side by side. The mechanism of the lever tools/bench/README.md names last for
// issue 15 ("a successor that adopts the predecessor's browser and its warm pages"), measured before
// anyone builds it into the pool.
//
// "take over": this process launches Chromium over its DevTools pipe (the pool's flags), opens an
// incognito context and a page that answers a fixed origin through request interception, and renders
// three lessons. It starts a child node process with an IPC channel, as a prepared successor has, lets
// go (interception off, no auto-attach, CdpPipeTransport.release()) and sends the pipe's two ends over
// the channel, with the bytes it had read of an unfinished message. The child connects puppeteer over
// them, finds the page, intercepts its requests itself and renders. "launch": the child launches a Chromium of its own
// with the same flags and opens the same context and page, as a successor does now.
// Each arm measures in the child, from go: the time until its page intercepts (ready), the Chromium
// tree's CPU meanwhile, and its first two renders (a successor of today renders a warm-up lesson
// before it is ready, so a client's first render is its second). A take-over that does not see the
// page's requests (a blocked image must reach the child's interception) is an error.
// Run: SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/pipe-handover.bench.ts [--rounds 6]
// JSON on stdout, a table on stderr.
import { descendantsOf, listProcs, readProc, resolveChromePath, CLOCK_TICKS_PER_SEC } from '@edu-agents/qc-chrome-pool';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer';
import { CdpPipeTransport } from '../../libs/qc-chrome-pool/src/lib/cdp-pipe.transport';
import { BASE_CHROME_ARGS, killChromeTree, waitGone } from '../../libs/qc-chrome-pool/src/lib/chrome-launcher';
import { profileTmpDir, removeProfile } from '../../libs/qc-chrome-pool/src/lib/profile-dir';

type Arm = 'take over' | 'launch';
const ARMS: Arm[] = ['take over', 'launch'];
const ORIGIN = 'https://lesson.test/';
const BLOCKED = 'https://elsewhere.test/pixel.png';
const WARM_RENDERS = 3;
const TIMEOUT_MS = 30_000;

/** Sent with the pipe's end that writes to Chromium. */
interface ToChrome { type: 'to-chrome' }
/** Sent last, with the end that reads from Chromium when there is a browser to take over. */
interface Go { type: 'go'; chromePid?: number; leftover?: string }
interface Measured { type: 'done'; readyMs: number; chromeCpuMs: number; renders: number[]; blocked: string[]; chromePid: number }
interface Round extends Omit<Measured, 'type' | 'blocked' | 'chromePid'> { arm: Arm; round: number; releaseMs?: number; leftoverBytes?: number; blockedByChild: number }

const lesson = (name: string) =>
  `<!doctype html><html><head><title>${name}</title></head><body><h1>Fractions</h1>${'<p>A fraction is a part of a whole. One half is one of two equal parts.</p>'.repeat(30)}` +
  `<img src="${BLOCKED}"><img src="figure.png" alt="relative"></body></html>`;

/** The page answers the lesson's origin for documents and blocks everything else, noting it in `blocked`. */
async function interceptLessons(page: Page, blocked: string[]): Promise<void> {
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith(ORIGIN) && request.resourceType() === 'document') return void request.respond({ status: 200, contentType: 'text/html', body: lesson(url) });
    blocked.push(url);
    return void request.abort();
  });
}

async function render(page: Page, name: string): Promise<number> {
  const started = performance.now();
  await page.goto(`${ORIGIN}${name}`, { timeout: TIMEOUT_MS });
  await page.screenshot({ type: 'png' });
  return performance.now() - started;
}

/**
 * Chromium over its DevTools pipe with the pool's flags, in a new profile, with its temporary files
 * (its singleton directory among them) inside that profile, as the pool starts it: they go with it.
 */
function spawnChrome(chrome: string, profile: string): ChildProcess {
  const args = [...puppeteer.defaultArgs({ headless: true, userDataDir: profile, args: BASE_CHROME_ARGS }), '--remote-debugging-pipe'];
  const chromeTmp = profileTmpDir(profile);
  if (chromeTmp !== undefined) mkdirSync(chromeTmp);
  const env = chromeTmp === undefined ? process.env : { ...process.env, TMPDIR: chromeTmp };
  return spawn(chrome, args, { env, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
}

const connect = (transport: CdpPipeTransport) => puppeteer.connect({ transport, defaultViewport: null, protocolTimeout: TIMEOUT_MS });

/** CPU ms of `pid` and its descendants (reaped children included). */
function treeCpuMs(pid: number): number {
  const procs = listProcs();
  const root = readProc(pid);
  return (((root?.cpuTicks ?? 0) + descendantsOf(pid, procs).reduce((sum, p) => sum + p.cpuTicks, 0)) * 1000) / CLOCK_TICKS_PER_SEC;
}

/** Kills Chromium `pid` and every process of its profile, as the pool does, and waits until none runs (at most 5 s). */
const killChrome = (pid: number | undefined, profile: string) => waitGone(killChromeTree(pid, profile, false), 5_000);

/** The first message of `child` that `match` accepts, or an error when it exits or the time is up. */
function nextMessage<T>(child: ChildProcess, what: string, match: (m: unknown) => m is T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the child did not say ${what} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const onMessage = (m: unknown) => match(m) && finish(undefined, m);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => finish(new Error(`the child exited (${signal ?? `code ${code}`}) before it said ${what}`));
    function finish(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
const isType = <T>(type: string) => (m: unknown): m is T => typeof m === 'object' && m !== null && (m as { type?: string }).type === type;

/** Sends the child's measurement and resolves once it left (the child exits right after). */
const report = (measured: Measured) => new Promise<void>((resolve, reject) => process.send?.(measured, (error: Error | null) => (error ? reject(error) : resolve())));

/** The child: waits for go, then takes over the inherited browser or launches its own, and reports. */
async function child(arm: Arm, chrome: string): Promise<void> {
  let toChrome: Socket | undefined;
  let fromChrome: Socket | undefined;
  const go = await new Promise<Go>((resolve) => {
    process.on('message', (m: unknown, handle?: unknown) => {
      if (isType<ToChrome>('to-chrome')(m)) toChrome = handle as Socket;
      if (!isType<Go>('go')(m)) return;
      fromChrome = handle as Socket | undefined;
      resolve(m);
    });
    process.send?.({ type: 'booted' });
  });
  const started = performance.now();
  let chromePid = go.chromePid;
  let browser: Browser;
  let page: Page;
  const blocked: string[] = [];
  if (arm === 'take over') {
    if (chromePid === undefined || !toChrome || !fromChrome) throw new Error('take over: go came without a Chromium pid or both ends of its pipe');
    const cpuBefore = treeCpuMs(chromePid);
    browser = await connect(new CdpPipeTransport(toChrome as Writable, fromChrome as Readable, Buffer.from(go.leftover ?? '', 'base64')));
    const pages = (await Promise.all(browser.browserContexts().map((context) => context.pages()))).flat();
    const found = pages.find((p) => p.url().startsWith(ORIGIN));
    if (!found) throw new Error(`take over: no page of ${ORIGIN} among ${pages.map((p) => p.url()).join(', ') || 'none'}`);
    page = found;
    await interceptLessons(page, blocked);
    const readyMs = performance.now() - started;
    const chromeCpuMs = treeCpuMs(chromePid) - cpuBefore;
    const renders = [await render(page, 'child-1'), await render(page, 'child-2')];
    await report({ type: 'done', readyMs, chromeCpuMs, renders, blocked, chromePid });
    return;
  }
  const profile = mkdtempSync(join(tmpdir(), 'pipe-handover-'));
  const spawned = spawnChrome(chrome, profile);
  chromePid = spawned.pid;
  try {
    browser = await connect(new CdpPipeTransport(spawned.stdio[3] as Writable, spawned.stdio[4] as Readable));
    page = await (await browser.createBrowserContext()).newPage();
    await interceptLessons(page, blocked);
    const readyMs = performance.now() - started;
    const chromeCpuMs = treeCpuMs(chromePid as number);
    const renders = [await render(page, 'child-1'), await render(page, 'child-2')];
    await report({ type: 'done', readyMs, chromeCpuMs, renders, blocked, chromePid: chromePid as number });
  } finally {
    await killChrome(chromePid, profile);
    removeProfile(profile);
  }
}

/** Resolves once `kid` exited; kills it when it has not within {@link TIMEOUT_MS}. */
async function untilExit(kid: ChildProcess): Promise<void> {
  if (kid.exitCode !== null || kid.signalCode !== null) return;
  const exited = new Promise((resolve) => kid.once('exit', resolve));
  const timer = setTimeout(() => kid.kill('SIGKILL'), TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function startChild(arm: Arm, chrome: string): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, __filename, '--child', arm, '--chrome', chrome], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env });
}

/**
 * Sends `message` with `handle` (an end of Chromium's pipe) over `kid`'s IPC channel. This process's
 * copy closes once sent; `keepOpen: true` would keep it, for a predecessor to take the browser back
 * should its successor die.
 */
const sendWith = (kid: ChildProcess, message: ToChrome | Go, handle: unknown) =>
  new Promise<void>((resolve, reject) => kid.send(message, handle as Socket, (error) => (error ? reject(error) : resolve())));

/** One round of `arm`, measured by its child. */
async function round(arm: Arm, chrome: string, n: number): Promise<Round> {
  if (arm === 'launch') {
    const kid = startChild(arm, chrome);
    try {
      await nextMessage(kid, 'booted', isType('booted'));
      kid.send({ type: 'go' } satisfies Go);
      const done = await nextMessage<Measured>(kid, 'done', isType<Measured>('done'));
      return { arm, round: n, readyMs: done.readyMs, chromeCpuMs: done.chromeCpuMs, renders: done.renders, blockedByChild: done.blocked.length };
    } finally {
      // The child removes its own Chromium and profile before it exits.
      await untilExit(kid);
    }
  }
  const profile = mkdtempSync(join(tmpdir(), 'pipe-handover-'));
  const chromeProcess = spawnChrome(chrome, profile);
  let kid: ChildProcess | undefined;
  try {
    const transport = new CdpPipeTransport(chromeProcess.stdio[3] as Writable, chromeProcess.stdio[4] as Readable);
    const browser = await connect(transport);
    const page = await (await browser.createBrowserContext()).newPage();
    await interceptLessons(page, []);
    for (let i = 0; i < WARM_RENDERS; i += 1) await render(page, `warm-${i}`);
    kid = startChild(arm, chrome);
    await nextMessage(kid, 'booted', isType('booted'));
    const releaseStarted = performance.now();
    // Let go: no interception, no auto-attach, no target discovery of ours (turning auto-attach off
    // detaches the sessions it attached), then the pipe itself.
    await page.setRequestInterception(false);
    // The page's own session (internal to puppeteer) leads to the connection's root, where auto-attach was set.
    const root = (page as unknown as { _client(): CDPSession })._client().connection();
    if (!root) throw new Error('take over: no DevTools connection to send the release on');
    await root.send('Target.setAutoAttach', { autoAttach: false, waitForDebuggerOnStart: false, flatten: true });
    await root.send('Target.setDiscoverTargets', { discover: false });
    const leftover = transport.release();
    await sendWith(kid, { type: 'to-chrome' }, chromeProcess.stdio[3]);
    await sendWith(kid, { type: 'go', chromePid: chromeProcess.pid, leftover: leftover.toString('base64') }, chromeProcess.stdio[4]);
    const releaseMs = performance.now() - releaseStarted;
    const done = await nextMessage<Measured>(kid, 'done', isType<Measured>('done'));
    if (!done.blocked.includes(BLOCKED)) throw new Error(`take over: the child's interception never saw ${BLOCKED} (it saw ${done.blocked.join(', ') || 'nothing'})`);
    return { arm, round: n, readyMs: done.readyMs, chromeCpuMs: done.chromeCpuMs, renders: done.renders, releaseMs, leftoverBytes: leftover.length, blockedByChild: done.blocked.length };
  } finally {
    if (kid) await untilExit(kid);
    await killChrome(chromeProcess.pid, profile);
    removeProfile(profile);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
const ms = (x: number) => Math.round(x);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, child: { type: 'string' }, chrome: { type: 'string' } } });
  if (values.child !== undefined) {
    if (!ARMS.includes(values.child as Arm)) throw new Error(`--child ${values.child}: expected one of ${ARMS.join(', ')}`);
    return child(values.child as Arm, values.chrome ?? resolveChromePath(undefined));
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: expected a whole number of at least 1`);
  const chrome = resolveChromePath(process.env['CHROME_PATH']);
  const results: Round[] = [];
  // In turns, one order then the other, so that a busy moment of the machine lands on both alike.
  for (let n = 0; n < rounds; n += 1) for (const arm of n % 2 === 0 ? ARMS : [...ARMS].reverse()) results.push(await round(arm, chrome, n));
  const summary = ARMS.map((arm) => {
    const mine = results.filter((r) => r.arm === arm);
    return {
      arm, rounds: mine.length, readyMs: ms(median(mine.map((r) => r.readyMs))), chromeCpuMs: ms(median(mine.map((r) => r.chromeCpuMs))),
      firstRenderMs: ms(median(mine.map((r) => r.renders[0] ?? 0))), secondRenderMs: ms(median(mine.map((r) => r.renders[1] ?? 0))),
      releaseMs: arm === 'take over' ? ms(median(mine.map((r) => r.releaseMs ?? 0))) : undefined,
    };
  });
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, chrome, summary, rounds: results }, null, 2)}\n`);
  process.stderr.write(
    [
      'A successor that takes over its predecessor\'s Chromium and warm page, against one that launches its own (medians):',
      '| arm | rounds | go to ready (ms) | Chromium CPU, go to ready (ms) | first render (ms) | second render (ms) | predecessor lets go (ms) |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...summary.map((s) => `| ${s.arm} | ${s.rounds} | ${s.readyMs} | ${s.chromeCpuMs} | ${s.firstRenderMs} | ${s.secondRenderMs} | ${s.releaseMs ?? '-'} |`),
      '',
    ].join('\n'),
  );
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`pipe-handover: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
