import { accessSync, constants } from 'node:fs';
import { MAX_NICE, validNice, type ChromeSession } from './chrome-priority';

/**
 * 'origin': warm pages reused, each job on an origin of its own (default, see README).
 * 'context': a fresh incognito browser context (new renderer) per job.
 */
export type QcIsolation = 'origin' | 'context';

export type QcLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Pool configuration. Start from {@link QC_POOL_DEFAULTS} and override. */
export interface QcPoolConfig {
  /** Chrome/Chromium executable; when absent, {@link CHROME_CANDIDATES} are tried. */
  chromePath?: string;
  browsers: number;
  pagesPerBrowser: number;
  /** Jobs allowed to wait for a slot; one more is refused at once with QueueFullError. */
  queueMax: number;
  jobTimeoutMs: number;
  acquireTimeoutMs: number;
  cacheMaxEntries: number;
  cacheMaxBytes: number;
  isolation: QcIsolation;
  /** A browser is retired after this many jobs ... */
  recycleAfterJobs: number;
  /** ... or after this age. */
  recycleAfterMs: number;
  /** A warm page (origin mode) is replaced after this many jobs. */
  pageRecycleAfterJobs: number;
  /** Bound on the between-jobs reset of a warm page; a slower reset discards the page. */
  pageResetTimeoutMs: number;
  /**
   * Each new browser renders a sample lesson on every slot before it takes jobs (default
   * true): a new browser's first renders cost several times a warm one's, and with this
   * they are not a client's. A handoff's successor is ready only after it.
   */
  warmUpRender?: boolean;
  /** Extra wait after the load event so late console/page errors (timers, promises) land in the report. */
  settleMs: number;
  /** Default deadline of close() for active jobs. */
  closeTimeoutMs: number;
  /**
   * Scheduling priority of Chromium, as a nice value 0..19 applied to every Chromium
   * process from its start, and to its session's autogroup when it has a session of its
   * own (see chrome-priority.ts). Higher is lower priority; 0 leaves Chromium as it
   * starts itself.
   */
  chromeNice: number;
  /**
   * Where Chromium is scheduled. `api` (default): in this process's session, and so in
   * its scheduling group, below its event loop by `chromeNice`; the group as a whole
   * competes with the rest of the machine as one. `own`: a session (and autogroup) of
   * its own at `chromeNice`, as puppeteer starts browsers: below everything else on the
   * machine, so that a busy neighbour can starve it. See chrome-priority.ts.
   */
  chromeSession: ChromeSession;
  /**
   * With `chromeSession: 'own'`: how long (ms) a browser's start or a render may wait
   * before its group is raised to nice 0 until nothing waits that long (the starvation
   * escape, see starvation-escape.ts); 0 never raises. Unused with `api`.
   */
  chromeEscapeMs: number;
  /** Extra Chromium flags, appended to the pool's own. */
  extraChromeArgs?: string[];
  log?: (level: QcLogLevel, message: string, fields?: Record<string, unknown>) => void;
  /**
   * Called as each render begins (a cache hit is no render); the function it returns is
   * called once the render and its slot's reset ended. A process that starts its own
   * successor lets that start yield to its renders through it (process-handoff's
   * `Upgrader.yieldStart`). It must not throw.
   */
  onRender?: () => () => void;
}

/** The one set of defaults; documentation refers here instead of repeating numbers. */
export const QC_POOL_DEFAULTS: QcPoolConfig = Object.freeze({
  browsers: 1,
  pagesPerBrowser: 2,
  queueMax: 32,
  jobTimeoutMs: 10_000,
  acquireTimeoutMs: 15_000,
  cacheMaxEntries: 500,
  cacheMaxBytes: 64 * 1024 * 1024,
  isolation: 'origin' as QcIsolation,
  recycleAfterJobs: 2_000,
  recycleAfterMs: 30 * 60_000,
  pageRecycleAfterJobs: 100,
  pageResetTimeoutMs: 3_000,
  warmUpRender: true,
  settleMs: 0,
  closeTimeoutMs: 10_000,
  chromeNice: 19,
  chromeSession: 'api' as ChromeSession,
  // Measured 2026-12-03 (tools/bench/README.md): 3 s raised the successor's Chromium in the middle of
  // a quiet host's handoff at 500 req/s (its start took 3-5 s there) and stalled the switch for 2 s.
  chromeEscapeMs: 10_000,
});

/**
 * Where Chromium is looked for when no chromePath is given, in order. Debian's binary comes before
 * `/usr/bin/chromium`, Debian's launcher script: for a browser the pool drives, the script only adds
 * a dozen short-lived processes to every start (`uname`, `grep`, `findmnt`, `expr` ...) and flags the
 * pool did not choose (`--enable-remote-extensions`, `--enable-gpu-rasterization` and others), and
 * on some hosts its /dev/shm check prints a shell error into Chromium's output.
 */
export const CHROME_CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Returns the executable to launch or throws saying how to fix it. */
export function resolveChromePath(chromePath: string | undefined, candidates = CHROME_CANDIDATES): string {
  const list = chromePath ? [chromePath] : candidates;
  for (const path of list) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue; // not this one; try the next candidate
    }
  }
  throw new Error(
    chromePath
      ? `Chrome not executable at ${chromePath}; fix CHROME_PATH or install Chromium (apt-get install chromium)`
      : `no Chromium found in ${candidates.join(', ')}; install it (apt-get install chromium) or set CHROME_PATH`,
  );
}

/** Validates a config once at launch; throws naming the bad field. */
export function validateQcPoolConfig(config: QcPoolConfig): QcPoolConfig {
  const positive: (keyof QcPoolConfig)[] = [
    'browsers', 'pagesPerBrowser', 'jobTimeoutMs', 'acquireTimeoutMs', 'cacheMaxEntries', 'cacheMaxBytes',
    'recycleAfterJobs', 'recycleAfterMs', 'pageRecycleAfterJobs', 'pageResetTimeoutMs', 'closeTimeoutMs',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new Error(`QcPoolConfig.${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (typeof config.settleMs !== 'number' || !(config.settleMs >= 0)) {
    throw new Error(`QcPoolConfig.settleMs must be a number >= 0, got ${String(config.settleMs)}`);
  }
  if (!Number.isInteger(config.queueMax) || config.queueMax < 0) {
    throw new Error(`QcPoolConfig.queueMax must be an integer >= 0, got ${String(config.queueMax)}`);
  }
  if (!validNice(config.chromeNice)) {
    throw new Error(`QcPoolConfig.chromeNice must be an integer from 0 to ${MAX_NICE}, got ${String(config.chromeNice)}`);
  }
  if (config.chromeSession !== 'api' && config.chromeSession !== 'own') {
    throw new Error(`QcPoolConfig.chromeSession must be 'api' or 'own', got ${String(config.chromeSession)}`);
  }
  if (!Number.isInteger(config.chromeEscapeMs) || config.chromeEscapeMs < 0) {
    throw new Error(`QcPoolConfig.chromeEscapeMs must be an integer >= 0 (ms; 0 never raises), got ${String(config.chromeEscapeMs)}`);
  }
  if (config.warmUpRender !== undefined && typeof config.warmUpRender !== 'boolean') {
    throw new Error(`QcPoolConfig.warmUpRender must be true or false, got ${String(config.warmUpRender)}`);
  }
  if (config.isolation !== 'origin' && config.isolation !== 'context') {
    throw new Error(`QcPoolConfig.isolation must be 'origin' or 'context', got ${String(config.isolation)}`);
  }
  return config;
}
