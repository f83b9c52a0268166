import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { chromeProcsOf } from './proc-tree';
import { PROFILE_PREFIX } from './orphan-cleanup';
import { NETWORK_GUARD_CHROME_ARGS, NETWORK_GUARD_PREFERENCES } from './network-guard';

/** A running Chrome and what is needed to get rid of it for sure. */
export interface LaunchedChrome {
  browser: Browser;
  pid: number;
  profileDir: string;
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
  // bfcache would keep a finished job's document (and its timers) alive after navigation.
  '--disable-features=BackForwardCache,Translate,MediaRouter,OptimizationHints,SpareRendererForSitePerProcess',
  ...NETWORK_GUARD_CHROME_ARGS,
];

/**
 * Starts Chrome over a pipe (it dies with its parent), detached in its own process
 * group, with puppeteer's signal handlers off and a recognisable temporary profile.
 */
export async function launchChrome(
  executablePath: string,
  extraArgs: string[] = [],
  preferences: object = NETWORK_GUARD_PREFERENCES,
): Promise<LaunchedChrome> {
  const profileDir = mkdtempSync(join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-`));
  try {
    // Profile preferences also reach the incognito contexts the pool renders in.
    mkdirSync(join(profileDir, 'Default'));
    writeFileSync(join(profileDir, 'Default', 'Preferences'), JSON.stringify(preferences));
    const browser = await puppeteer.launch({
      executablePath,
      pipe: true,
      headless: true,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      userDataDir: profileDir,
      args: [...BASE_CHROME_ARGS, ...extraArgs],
      defaultViewport: null,
      protocolTimeout: 30_000,
    });
    const pid = browser.process()?.pid;
    if (pid === undefined) throw new Error('puppeteer gave no Chrome process id');
    return { browser, pid, profileDir };
  } catch (error) {
    killChromeTree(undefined, profileDir);
    rmSync(profileDir, { recursive: true, force: true });
    throw new Error(`could not launch Chrome at ${executablePath}; check CHROME_PATH and that it runs headless`, {
      cause: error,
    });
  }
}

/** SIGKILLs the process group of `pid` and any process still using `profileDir`. Returns pids hit. */
export function killChromeTree(pid: number | undefined, profileDir: string): number[] {
  const hit: number[] = [];
  const tryKill = (target: number) => {
    try {
      process.kill(target, 'SIGKILL');
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      return false;
    }
  };
  if (pid !== undefined && pid > 1 && tryKill(-pid)) hit.push(pid);
  for (const proc of chromeProcsOf(profileDir, pid)) {
    if (proc.pid > 1 && tryKill(proc.pid)) hit.push(proc.pid);
  }
  return hit;
}

/** Closes Chrome politely within `deadlineMs`, then kills its group and removes its profile. */
export async function disposeChrome(chrome: LaunchedChrome, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      chrome.browser.close(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
        timer.unref();
      }),
    ]);
  } catch {
    // close failed (already gone / crashed): the kill below is what guarantees cleanup
  } finally {
    clearTimeout(timer);
    killChromeTree(chrome.pid, chrome.profileDir);
    rmSync(chrome.profileDir, { recursive: true, force: true, maxRetries: 3 });
  }
}
