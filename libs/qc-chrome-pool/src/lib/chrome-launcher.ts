import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import puppeteer, { type Browser, type ConnectionTransport } from 'puppeteer';
import { CdpPipeTransport } from './cdp-pipe.transport';
import type { RelayedTransport } from './cdp-relay';
import { hasSysNice, lowerAutogroup, MAX_NICE, priorityCommand, setAutogroup, type ChromePriority, type ChromeSession } from './chrome-priority';
import { chromeProcsOf, listProcsAsync, readProc, type ProcInfo } from './proc-tree';
import { teardownPaced, trySignal, type ChromePace, type PacedTeardown } from './chrome-teardown';
import { PROFILE_PREFIX } from './orphan-cleanup';
import { profileTmpDir, removeProfile, removeProfileAsync, writeProfileOwner } from './profile-dir';
import { NETWORK_GUARD_CHROME_ARGS, NETWORK_GUARD_PREFERENCES } from './network-guard';
import { StarvationEscape } from './starvation-escape';

/** A running Chrome and what is needed to get rid of it for sure. */
export interface LaunchedChrome {
  browser: Browser;
  pid: number;
  profileDir: string;
  /** The scheduling priority it runs at. */
  priority: ChromePriority;
  /**
   * A session of its own lowered by the launch: raises it while work waits too long
   * (see starvation-escape.ts). Its `start` is pending until the caller calls {@link startDone}.
   */
  escape?: StarvationEscape;
  /** Ends the `start` the escape counts from spawn (the caller's warm-up is part of the start). */
  startDone: () => void;
  /**
   * The transport over its DevTools pipe, with the pipe's two ends: what {@link letGoOfChrome} passes
   * on. Undefined while another process holds the pipe ({@link borrowed}).
   */
  transport: CdpPipeTransport | undefined;
  /**
   * A Chromium another process holds the pipe of, used through that process's relay (see
   * cdp-relay.ts) until the pipe comes ({@link takePipe}). Closing it closes only what this process
   * opened in it.
   */
  borrowed?: RelayedTransport;
  /** Which file it was started from ({@link binaryIdentity} at its launch). */
  binary: string;
}

/**
 * The identity of the executable at `path` now (device, inode, size, modification time; links
 * followed): a Chromium that another process started from another file (the package was upgraded
 * since) is not one to go on with.
 */
export function binaryIdentity(path: string): string {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.size}:${Math.round(st.mtimeMs)}`;
  } catch (error) {
    return `unreadable: ${(error as Error).message}`;
  }
}

/** What another process needs to go on with a running Chromium, besides the two ends of its pipe. */
export interface ChromeHandover {
  pid: number;
  profileDir: string;
  priority: ChromePriority;
  /** Bytes read from Chromium but not yet a whole message (base64). */
  leftover: string;
  /** The executable it was started from ({@link binaryIdentity} at its launch). */
  binary: string;
  /** When its pool started it (ms since the epoch) and how many jobs it has run: its recycling goes on from there. */
  launchedAt: number;
  jobs: number;
}

/** A browser-level DevTools command on `chrome`'s connection (puppeteer has no public way to send one). */
export function browserCommand(chrome: LaunchedChrome, method: string, params: object): Promise<unknown> {
  const root = (chrome.browser as unknown as { _connection: { send(method: string, params: object): Promise<unknown> } })._connection;
  return root.send(method, params);
}

/** A running Chromium lent to another process (see cdp-relay.ts): what it needs besides the relay, and the browser-level session opened for it. */
export interface ChromeLoan extends Omit<ChromeHandover, 'leftover'> {
  sessionId: string;
}

/** Uses a Chromium another process lends (`loan`) through `transport`, the relay to that process. */
export async function borrowChrome(loan: ChromeLoan, transport: RelayedTransport): Promise<LaunchedChrome> {
  const browser = await connectTransport(transport);
  return { browser, pid: loan.pid, profileDir: loan.profileDir, priority: loan.priority, startDone: () => undefined, transport: undefined, borrowed: transport, binary: loan.binary };
}

/** A borrowed Chromium's pipe came (`leftover`: what the lender had read of it): from now on it is this process's, as if launched here. */
export function takePipe(chrome: LaunchedChrome, toChrome: Writable, fromChrome: Readable, leftover: Buffer): void {
  const relayed = chrome.borrowed;
  if (relayed === undefined) throw new Error(`Chrome (pid ${chrome.pid}) is not borrowed: it has its pipe already`);
  relayed.moveTo(toChrome, fromChrome, leftover);
  chrome.transport = relayed.pipe;
  chrome.borrowed = undefined;
  // Its profile is this process's now: an orphan cleanup leaves it alone while this process lives.
  writeProfileOwner(chrome.profileDir, process.pid);
}

/**
 * Lets go of `chrome` for another process to go on with it: no auto-attach or target discovery of
 * this connection any more (turning auto-attach off detaches the sessions it attached, and with them
 * their interception and scripts), then the pipe itself. Call it once no reply is awaited. The pipe's
 * two ends are returned open, for the caller to pass on (`subprocess.send(message, end)`).
 */
export async function letGoOfChrome(
  chrome: LaunchedChrome,
  age: { launchedAt: number; jobs: number },
  /** Awaited right before the pipe is released (a borrower holds its commands back then). */
  beforeRelease?: () => Promise<void>,
): Promise<{ handover: ChromeHandover; toChrome: Writable; fromChrome: Readable }> {
  const { transport } = chrome;
  if (transport === undefined) throw new Error(`Chrome (pid ${chrome.pid}) is borrowed: its pipe is another process's to pass on`);
  chrome.escape?.stop();
  // Both at once: the browser answers them in order, and the pipe is released after the last answer.
  await Promise.all([
    browserCommand(chrome, 'Target.setAutoAttach', { autoAttach: false, waitForDebuggerOnStart: false, flatten: true }),
    browserCommand(chrome, 'Target.setDiscoverTargets', { discover: false }),
  ]);
  await beforeRelease?.();
  const leftover = transport.release();
  return {
    handover: { pid: chrome.pid, profileDir: chrome.profileDir, priority: chrome.priority, leftover: leftover.toString('base64'), binary: chrome.binary, ...age },
    toChrome: transport.toChrome,
    fromChrome: transport.fromChrome,
  };
}

/** Goes on with a Chromium another process let go of ({@link letGoOfChrome}), over the two ends of its pipe. */
export async function adoptChrome(handover: ChromeHandover, toChrome: Writable, fromChrome: Readable): Promise<LaunchedChrome> {
  const transport = new CdpPipeTransport(toChrome, fromChrome, Buffer.from(handover.leftover, 'base64'));
  const browser = await connectTransport(transport);
  // Its profile is this process's now: an orphan cleanup leaves it alone while this process lives.
  writeProfileOwner(handover.profileDir, process.pid);
  return {
    browser, pid: handover.pid, profileDir: handover.profileDir, priority: handover.priority, startDone: () => undefined,
    transport, binary: handover.binary,
  };
}

/** Flags that work headless as root on a small Linux box, plus the network guard. */
export const BASE_CHROME_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-extensions',
  '--mute-audio',
  // No first tab: puppeteer's default args open about:blank, whose renderer the pool never uses
  // (every slot opens its own context). It cost a start 0.6 core-seconds and two processes
  // (tools/bench/qc-start-cost.bench.ts), paid again by every successor while the old one serves.
  '--no-startup-window',
  // bfcache would keep a finished job's document (and its timers) alive after navigation.
  // Headless Chromium also preloads its omnibox's WebUI popups (chrome://omnibox-popup.top-chrome/)
  // for every window, in a renderer of their own: each page a slot opens (its own context, so a
  // window) came with a second renderer, 1.5 of a start's 2.45 core-seconds here
  // (tools/bench/qc-start-cost.bench.ts). Nothing here ever shows an omnibox, and Chromium
  // ignores feature names it does not know.
  '--disable-features=BackForwardCache,Translate,MediaRouter,OptimizationHints,SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxAimPopup',
  ...NETWORK_GUARD_CHROME_ARGS,
];

/** How long killed Chrome processes may take to be gone before close() carries on anyway. */
const KILL_WAIT_MS = 3_000;

/** Resolves once none of `pids` is a live process (zombies count as gone), or after `ms`. */
export async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const alive = () => pids.some((pid) => {
    const proc = readProc(pid);
    return proc !== undefined && proc.state !== 'Z';
  });
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** How long Chrome may take from spawn to answering on its DevTools pipe. */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long a failed connect waits for Chrome's exit, whose status and stderr say why. */
const EXIT_GRACE_MS = 2_000;
/** Lines of Chrome's stderr kept for a launch error. */
const STDERR_LINES = 20;

export interface LaunchOptions {
  extraArgs?: string[];
  preferences?: object;
  /** Nice value of Chromium's processes, and of its session when it has its own (0..19; 0 changes nothing). See chrome-priority.ts. */
  nice?: number;
  /** `api` (default): Chromium in this process's session and scheduling group; `own`: a session of its own. */
  session?: ChromeSession;
  /** With `own`: the starvation escape's threshold in ms (0 or absent: none). */
  escapeMs?: number;
  /** Where the escape says when it raises and lowers the group. */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

/**
 * Starts Chrome over a pipe (it dies with its parent) at a lower scheduling priority,
 * in this process's session and scheduling group or in one of its own (see
 * chrome-priority.ts), with a recognisable temporary profile. The process is spawned
 * here rather than by puppeteer.launch so that its priority is set from its first
 * instruction (and an own session's autogroup right after spawn), before Chrome's
 * heavy start, not after puppeteer connected.
 */
export async function launchChrome(executablePath: string, options: LaunchOptions = {}): Promise<LaunchedChrome> {
  const nice = options.nice ?? 0;
  const session = options.session ?? 'api';
  const own = session === 'own';
  const profileDir = mkdtempSync(join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-`));
  const binary = binaryIdentity(executablePath);
  let child: ChildProcess | undefined;
  let escape: StarvationEscape | undefined;
  try {
    // Profile preferences also reach the incognito contexts the pool renders in.
    mkdirSync(join(profileDir, 'Default'));
    writeFileSync(join(profileDir, 'Default', 'Preferences'), JSON.stringify(options.preferences ?? NETWORK_GUARD_PREFERENCES));
    const args = [
      ...puppeteer.defaultArgs({ headless: true, userDataDir: profileDir, args: [...BASE_CHROME_ARGS, ...(options.extraArgs ?? [])] }),
      '--remote-debugging-pipe',
    ];
    const command = priorityCommand(executablePath, args, nice, hasSysNice());
    // Chromium's own temporary files, its singleton directory among them, inside the profile, so
    // that they go with it however Chromium ends (see profileTmpDir).
    const chromeTmp = profileTmpDir(profileDir);
    if (chromeTmp !== undefined) mkdirSync(chromeTmp);
    const env = chromeTmp === undefined ? process.env : { ...process.env, TMPDIR: chromeTmp };
    // `own`: a session (and process group) of its own, like puppeteer's detached launch.
    const spawned = spawn(command.file, command.args, { detached: own, env, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    child = spawned;
    // A starting Chromium is heavier than a serving one: an own group starts at the lowest priority,
    // and the worker sets it to `nice` once its pages are warm (see BrowserWorker).
    const autogroup = !own ? Promise.resolve('shared with the API')
      : spawned.pid === undefined ? Promise.resolve('not asked') : lowerAutogroup(spawned.pid, nice === 0 ? 0 : MAX_NICE);
    escape = own && nice > 0 && spawned.pid !== undefined && (options.escapeMs ?? 0) > 0
      ? escapeFor(spawned.pid, options.escapeMs as number, options.log ?? (() => undefined))
      : undefined;
    const startDone = escape?.begin('start') ?? (() => undefined);
    const stderr = tailOf(spawned);
    const { browser, transport } = await connectOverPipe(spawned, stderr);
    const pid = spawned.pid as number;
    const priority = { nice, session, autogroup: await autogroup, processes: command.processes };
    // Nothing to raise back from where the group could not be lowered.
    if (escape && priority.autogroup !== 'set' && priority.autogroup !== 'off') {
      escape.stop();
      escape = undefined;
    }
    return { browser, pid, profileDir, priority, ...(escape ? { escape } : {}), startDone, transport, binary };
  } catch (error) {
    escape?.stop();
    killChromeTree(child?.pid, profileDir, own);
    removeProfile(profileDir);
    throw new Error(`could not launch Chrome at ${executablePath}; check CHROME_PATH and that it runs headless`, {
      cause: error,
    });
  }
}

/** A starvation escape that writes `pid`'s autogroup, checking on an unref'd timer. */
function escapeFor(pid: number, afterMs: number, log: NonNullable<LaunchOptions['log']>): StarvationEscape {
  return new StarvationEscape({ pid, lowNice: MAX_NICE, afterMs }, {
    write: (nice) => setAutogroup(pid, nice),
    log,
    now: () => Date.now(),
    every: (ms, fn) => {
      const timer = setInterval(fn, ms).unref();
      return () => clearInterval(timer);
    },
  });
}

/** Keeps the last lines Chrome wrote on stderr (read all along, so the pipe never fills). */
function tailOf(child: ChildProcess): () => string {
  let lines: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    lines = [...lines, ...text.split('\n').filter(Boolean)].slice(-STDERR_LINES);
  });
  return () => lines.join('\n');
}

/** puppeteer over a DevTools pipe, as the pool uses it: the viewport is each job's, a call may take 30 s. */
const connectTransport = (transport: ConnectionTransport): Promise<Browser> => puppeteer.connect({ transport, defaultViewport: null, protocolTimeout: 30_000 });

/** Connects puppeteer to Chrome's DevTools pipe (fd 3 to Chrome, fd 4 from it); fails when Chrome exits or never answers. */
async function connectOverPipe(child: ChildProcess, stderr: () => string): Promise<{ browser: Browser; transport: CdpPipeTransport }> {
  let timer: NodeJS.Timeout | undefined;
  let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    onExit = (code, signal) => {
      const say = () => reject(new Error(`Chrome exited before it answered (${signal ?? `code ${code}`}): ${stderr() || 'no stderr output'}`));
      // Its last words may still be in the stderr pipe when the exit is reported: read them first (bounded).
      if (child.stderr && !child.stderr.readableEnded) {
        child.stderr.once('end', say);
        setTimeout(say, 500).unref();
      } else {
        say();
      }
    };
    child.once('exit', onExit);
    timer = setTimeout(() => reject(new Error(`Chrome did not answer on its DevTools pipe within ${CONNECT_TIMEOUT_MS} ms: ${stderr() || 'no stderr output'}`)), CONNECT_TIMEOUT_MS);
  });
  try {
    const transport = new CdpPipeTransport(child.stdio[3] as Writable, child.stdio[4] as Readable);
    return { browser: await Promise.race([connectTransport(transport), failed]), transport };
  } catch (error) {
    // A Chrome that dies closes its pipe as it goes: puppeteer may fail first ("Target closed")
    // and the exit event, which names the cause (its stderr), come a moment later. Wait for it, briefly.
    const exited = await Promise.race([
      failed.then(() => undefined, (reason: Error) => reason),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_GRACE_MS).unref()),
    ]);
    throw exited?.message.startsWith('Chrome exited') ? exited : error;
  } finally {
    clearTimeout(timer);
    if (onExit) child.off('exit', onExit);
    failed.catch(() => undefined);
  }
}

/**
 * SIGKILLs `pid` (its process group too when it leads one: `ownGroup`) and any process
 * still using `profileDir` (every Chromium process names it on its command line). Returns pids hit.
 */
export function killChromeTree(pid: number | undefined, profileDir: string, ownGroup: boolean): number[] {
  const hit = killChromeRoot(pid, ownGroup);
  return [...hit, ...killChromeProcs(chromeProcsOf(profileDir, ownGroup ? pid : undefined), hit)];
}

/**
 * {@link killChromeTree} for a process that goes on serving meanwhile: the root (and its group) at
 * once, then the rest after a walk of /proc that does not hold the event loop.
 */
export async function killChromeTreeAsync(pid: number | undefined, profileDir: string, ownGroup: boolean): Promise<number[]> {
  const hit = killChromeRoot(pid, ownGroup);
  return [...hit, ...killChromeProcs(chromeProcsOf(profileDir, ownGroup ? pid : undefined, await listProcsAsync()), hit)];
}

function killChromeRoot(pid: number | undefined, ownGroup: boolean): number[] {
  return pid !== undefined && pid > 1 && trySignal(ownGroup ? -pid : pid, 'SIGKILL') ? [pid] : [];
}

function killChromeProcs(procs: ProcInfo[], already: number[]): number[] {
  return procs.filter((proc) => proc.pid > 1 && !already.includes(proc.pid) && trySignal(proc.pid, 'SIGKILL')).map((proc) => proc.pid);
}

/**
 * Closes Chrome politely within `deadlineMs`, then kills its group and removes its profile.
 * With `pace`: no polite close; its processes go one at a time, each step once `pace` resolved
 * (chrome-teardown.ts), and what that did is returned.
 */
export async function disposeChrome(chrome: LaunchedChrome, deadlineMs: number, pace?: ChromePace): Promise<PacedTeardown | undefined> {
  chrome.escape?.stop();
  if (chrome.borrowed) {
    // Another process's Chromium: only what this process opened in it goes.
    const own = new Set(chrome.borrowed.contexts);
    await Promise.all(chrome.browser.browserContexts().filter((c) => c.id !== undefined && own.has(c.id)).map((c) => c.close().catch(() => undefined)));
    await chrome.browser.disconnect().catch(() => undefined);
    return undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  let paced: PacedTeardown | undefined;
  try {
    if (pace) {
      await pace(); // the walk of /proc below, and the stops right after it, between renders too
      const procs = chromeProcsOf(chrome.profileDir, chrome.priority.session === 'own' ? chrome.pid : undefined, await listProcsAsync());
      paced = await teardownPaced(chrome.pid, procs, pace);
    } else {
      await Promise.race([
        chrome.browser.close(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, deadlineMs);
          timer.unref();
        }),
      ]);
    }
  } catch {
    // close failed (already gone / crashed): the kill below is what guarantees cleanup
  } finally {
    clearTimeout(timer);
    // A killed Chromium still runs its exit (freeing its memory) at Chromium's low priority:
    // closed means gone, so wait for that (bounded) rather than report it closed while it dies.
    await waitGone(await killChromeTreeAsync(chrome.pid, chrome.profileDir, chrome.priority.session === 'own'), KILL_WAIT_MS);
    // Off the event loop: a used profile is thousands of files (measured: 55 ms of sync unlinks at a handoff's switch).
    await removeProfileAsync(chrome.profileDir);
  }
  return paced;
}
