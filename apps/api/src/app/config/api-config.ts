import { HANDOFF_DEFAULTS } from '@edu-agents/process-handoff';
import { MAX_NICE, QC_POOL_DEFAULTS } from '@edu-agents/qc-chrome-pool';
import { SHUTDOWN_DEFAULTS } from '@edu-agents/shutdown-state';
import { ConfigError, EnvReader } from './env-parsers';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type QcIsolationSetting = 'origin' | 'context';

/** The resolved configuration of the API, validated once at start-up. */
export interface ApiConfig {
  port: number;
  host: string;
  shutdownTimeoutMs: number;
  shutdownDelayMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  bodyLimitBytes: number;
  pidFile?: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  handoff: {
    /** SIGHUP starts a hot handoff; false where the process cannot be replaced (a container's main process). */
    enabled: boolean;
    /** How long a successor may take from its start to ready before it is killed. */
    timeoutMs: number;
    /** Nice value of a successor's own scheduling group until it is ready (0: start it as an equal). */
    successorNice: number;
    /** Ms a lowered successor may take to get ready before its group is set back (HANDOFF_SUCCESSOR_ESCAPE_MS; 0 never). */
    successorEscapeMs: number;
    /** A successor starts at SCHED_IDLE in its predecessor's scheduling group until it listens, where it can leave it (HANDOFF_SUCCESSOR_IDLE). */
    successorIdle: boolean;
    /**
     * Ms a successor started at SCHED_IDLE keeps its threads other than the main one there after it
     * listens (HANDOFF_HELPERS_IDLE_MS, default 3000; 0: with the rest): V8 compiles most in its first
     * seconds under load, on helper threads that took a core from the renders (tools/bench/README.md,
     * "The successor's helper threads at SCHED_IDLE after its ready").
     */
    helpersIdleMs: number;
    /**
     * The next successor's process is forked when this process starts to listen, not at SIGHUP
     * (HANDOFF_PREPARE_SUCCESSOR): the fork stalls a serving event loop for 7-13 ms.
     */
    prepareSuccessor: boolean;
    /**
     * Requests a successor sends through its own request path before it listens (HANDOFF_WARM_REQUESTS,
     * default 200; GETs, and QC POSTs that validation refuses): the requests its predecessor passes on to
     * it at the switch then meet compiled code (tools/bench/README.md, "What was left at the switch, request
     * by request", and "The first body after the switch").
     */
    warmRequests: number;
    /**
     * During those requests V8 optimizes a function after a 24th of the runs, and its own
     * thresholds are set back after them (HANDOFF_WARM_TIER_UP, default true; runtime/warm-tier-up.ts).
     */
    warmTierUp: boolean;
    /** Ms a successor waits, before it listens, for its Chromium to go quiet after launch (HANDOFF_SETTLE_MS; 0: listen at once). */
    settleMs: number;
    /** A successor runs one full garbage collection before it listens (HANDOFF_COLLECT_GARBAGE, default true). */
    collectGarbage: boolean;
    /** Nice value of this process's own Chromium while a successor starts (HANDOFF_CHROME_NICE); default QC_CHROME_NICE: unchanged. */
    chromeNice: number;
    /**
     * Nice value a successor's Chromium runs at from its launch until the predecessor has exited, then
     * QC_CHROME_NICE (HANDOFF_SUCCESSOR_CHROME_NICE, 0..QC_CHROME_NICE; default QC_CHROME_NICE: unchanged).
     * At 10 its renders beside the old process's retirement lost less, and the bench rows did not
     * get better (tools/bench/README.md, cause 28). With QC_CHROME_SESSION=own it does not apply.
     */
    successorChromeNice: number;
    /**
     * Ms after the switch before the old process lets go of its QC pool and stops (HANDOFF_RETIRE_AFTER_MS,
     * default 1500; connections move at the switch regardless): its Chromium's exit then misses the successor's
     * first renders. Two Chromium trees live that much longer.
     */
    retireAfterMs: number;
    /** The old process's own tree goes to SCHED_IDLE as it retires, where it may (HANDOFF_RETIRE_IDLE, default true). */
    retireIdle: boolean;
    /**
     * A successor's start is stopped while the old process renders, within bounds, where `setpriv` can
     * have the kernel continue it should the old process die (HANDOFF_START_YIELD, default true).
     */
    startYield: boolean;
    /**
     * The old process retires between the successor's renders, as the successor reports them: each
     * step waits until it renders nothing (one wait at most 250 ms), and its Chromium is stopped and
     * killed one process at a time (HANDOFF_RETIRE_YIELD, default true). Off: Chromium closes
     * politely, every process at once, and nothing waits.
     */
    retireYield: boolean;
    /**
     * A directory the API's instances on this host share (HANDOFF_YIELD_DIR, an absolute path; default none):
     * each says there when it renders, and a start or a retirement then yields to every instance's renders,
     * not only its own process's (process-handoff's `yieldDir`).
     */
    yieldDir: string | undefined;
    /**
     * The successor goes on with the old process's running Chromium and its warm pages, passed over the
     * handoff's channel at the switch, instead of launching its own (HANDOFF_TAKE_OVER_CHROME, default
     * false). Only where both run the same Chromium with the same settings; otherwise it launches as before.
     */
    takeOverChrome: boolean;
    /**
     * The successor borrows the old process's running Chromium while it starts: it opens and warms
     * pages of its own in it through a DevTools session the old process relays over the handoff's
     * channel, and at the switch only the pipe moves to it (HANDOFF_BORROW_CHROME, default false).
     * Same conditions as {@link takeOverChrome}, and not with it.
     */
    borrowChrome: boolean;
  };
  qc: {
    enabled: boolean;
    browsers: number;
    pagesPerBrowser: number;
    queueMax: number;
    /** How long a job may wait for a free slot before it is refused with 503 (QC_ACQUIRE_TIMEOUT_MS). */
    acquireTimeoutMs: number;
    jobTimeoutMs: number;
    cacheMaxEntries: number;
    cacheMaxBytes: number;
    closeTimeoutMs: number;
    /** Each new browser renders a sample lesson per slot before it takes jobs (QC_WARM_UP_RENDER). */
    warmUpRender: boolean;
    isolation: QcIsolationSetting;
    /** Nice value of Chromium's processes (and of its session when it has its own), 0..19 (QC_CHROME_NICE). */
    chromeNice: number;
    /** Chromium in the API's session and scheduling group (`api`) or in one of its own (`own`) (QC_CHROME_SESSION). */
    chromeSession: 'api' | 'own';
    /** With `own`: ms a start or render may wait before Chromium's group is raised to nice 0 until nothing waits that long; 0 never (QC_CHROME_ESCAPE_MS). */
    chromeEscapeMs: number;
    chromePath?: string;
  };
}

/**
 * Defaults, in one place (docs point here). The timeout chain that keeps restarts
 * clean: nginx upstream keepalive_timeout (60s) < KEEP_ALIVE_TIMEOUT_MS <
 * HEADERS_TIMEOUT_MS, and SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS +
 * QC_CLOSE_TIMEOUT_MS < systemd's TimeoutStopSec=30.
 */
export const API_CONFIG_DEFAULTS: Readonly<ApiConfig> = Object.freeze({
  port: 8000,
  host: '0.0.0.0',
  shutdownTimeoutMs: SHUTDOWN_DEFAULTS.timeoutMs,
  shutdownDelayMs: SHUTDOWN_DEFAULTS.delayMs,
  keepAliveTimeoutMs: 75_000,
  headersTimeoutMs: 76_000,
  bodyLimitBytes: 1024 * 1024,
  logFormat: 'text',
  logLevel: 'info',
  // A successor starts in a scheduling group of its own at nice 5 until it listens: below the serving
  // process and its Chromium (an equal successor made their QC renders 3-4.5x slower than steady, at 5
  // they are 0.9-1.7x), yet with a third of an equal's share, so a busy neighbour slows its handoff
  // (4 -> 7-9 s) without starving it as 19 does (tools/bench/README.md, "The successor's group at nice 5").
  // Where it can leave SCHED_IDLE again (CAP_SYS_NICE, or RLIMIT_NICE 20: the units' LimitNICE=+0), a successor
  // starts at SCHED_IDLE in the serving process's group instead: every other thread takes the CPU from its start at
  // once, which took the restart p99 at 500 req/s from 2.4-9.8x steady to 1.3-2.9x for one instance and 3.5-6.1x to
  // 2.1-3.3x rolling, side by side (tools/bench/README.md, "The successor at SCHED_IDLE"). Elsewhere the nice-5 group.
  // A successor listens once its Chromium went quiet after launch, 3 s at the latest: that after-start work
  // (0.1-1.1 CPU-s over 0.5-1.6 s) otherwise ran at the serving priority beside the clients (tools/bench/README.md,
  // "Chromium's after-start work"). Before it listens it runs one full garbage collection, so that its first scavenge
  // after the switch does not copy what its start left (tools/bench/README.md, "The successor's first scavenge").
  // The old process retires 1.5 s after the switch, at SCHED_IDLE: its Chromium's exit at the switch made the
  // successor's first renders 1.5-2.1x steady, and at its own priority 2.3x whenever it came (tools/bench/README.md,
  // "A quiet retirement").
  handoff: Object.freeze({ enabled: true, timeoutMs: HANDOFF_DEFAULTS.readyTimeoutMs, successorNice: 5, successorEscapeMs: HANDOFF_DEFAULTS.successorEscapeMs, successorIdle: true, helpersIdleMs: 3_000, prepareSuccessor: true, warmRequests: 200, warmTierUp: true, settleMs: 3_000, collectGarbage: true, chromeNice: QC_POOL_DEFAULTS.chromeNice, successorChromeNice: QC_POOL_DEFAULTS.chromeNice, retireAfterMs: 1_500, retireIdle: true, startYield: true, retireYield: true, yieldDir: undefined, takeOverChrome: false, borrowChrome: false }),
  qc: Object.freeze({
    enabled: true,
    browsers: QC_POOL_DEFAULTS.browsers,
    pagesPerBrowser: QC_POOL_DEFAULTS.pagesPerBrowser,
    queueMax: QC_POOL_DEFAULTS.queueMax,
    acquireTimeoutMs: QC_POOL_DEFAULTS.acquireTimeoutMs,
    jobTimeoutMs: QC_POOL_DEFAULTS.jobTimeoutMs,
    cacheMaxEntries: QC_POOL_DEFAULTS.cacheMaxEntries,
    cacheMaxBytes: QC_POOL_DEFAULTS.cacheMaxBytes,
    warmUpRender: QC_POOL_DEFAULTS.warmUpRender !== false,
    // The pool's own default close deadline is longer; the API's stop budget is
    // SHUTDOWN_TIMEOUT_MS + this, which must stay under TimeoutStopSec=30.
    closeTimeoutMs: 5_000,
    isolation: QC_POOL_DEFAULTS.isolation,
    chromeNice: QC_POOL_DEFAULTS.chromeNice,
    chromeSession: QC_POOL_DEFAULTS.chromeSession,
    chromeEscapeMs: QC_POOL_DEFAULTS.chromeEscapeMs,
  }),
});

const HOUR = 3_600_000;

/** Reads and validates the environment; throws {@link ConfigError} naming every bad variable. */
export function resolveApiConfig(env: Record<string, string | undefined>): ApiConfig {
  const r = new EnvReader(env);
  const d = API_CONFIG_DEFAULTS;
  const config: ApiConfig = {
    port: r.int('PORT', d.port, 0, 65_535),
    host: r.string('HOST', d.host, /^[\w.:-]+$/, 'a host name or IP address') ?? d.host,
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', d.shutdownTimeoutMs, 0, HOUR),
    shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', d.shutdownDelayMs, 0, HOUR),
    keepAliveTimeoutMs: r.int('KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 1_000, HOUR),
    headersTimeoutMs: r.int('HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 1_000, HOUR),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', d.bodyLimitBytes, 1_024, 64 * 1024 * 1024),
    pidFile: r.string('PID_FILE', undefined),
    logFormat: r.oneOf('LOG_FORMAT', d.logFormat, ['text', 'json'] as const),
    logLevel: r.oneOf('LOG_LEVEL', d.logLevel, ['debug', 'info', 'warn', 'error'] as const),
    handoff: {
      enabled: r.bool('HANDOFF_ENABLED', d.handoff.enabled),
      timeoutMs: r.int('HANDOFF_TIMEOUT_MS', d.handoff.timeoutMs, 1_000, HOUR),
      successorNice: r.int('HANDOFF_SUCCESSOR_NICE', d.handoff.successorNice, 0, 19),
      successorEscapeMs: r.int('HANDOFF_SUCCESSOR_ESCAPE_MS', d.handoff.successorEscapeMs, 0, HOUR),
      successorIdle: r.bool('HANDOFF_SUCCESSOR_IDLE', d.handoff.successorIdle),
      helpersIdleMs: r.int('HANDOFF_HELPERS_IDLE_MS', d.handoff.helpersIdleMs, 0, 60_000),
      prepareSuccessor: r.bool('HANDOFF_PREPARE_SUCCESSOR', d.handoff.prepareSuccessor),
      warmRequests: r.int('HANDOFF_WARM_REQUESTS', d.handoff.warmRequests, 0, 100_000),
      warmTierUp: r.bool('HANDOFF_WARM_TIER_UP', d.handoff.warmTierUp),
      settleMs: r.int('HANDOFF_SETTLE_MS', d.handoff.settleMs, 0, 60_000),
      collectGarbage: r.bool('HANDOFF_COLLECT_GARBAGE', d.handoff.collectGarbage),
      chromeNice: d.handoff.chromeNice, // below: its default is QC_CHROME_NICE's value
      successorChromeNice: d.handoff.successorChromeNice, // below: at most QC_CHROME_NICE
      retireAfterMs: r.int('HANDOFF_RETIRE_AFTER_MS', d.handoff.retireAfterMs, 0, 30_000),
      retireIdle: r.bool('HANDOFF_RETIRE_IDLE', d.handoff.retireIdle),
      startYield: r.bool('HANDOFF_START_YIELD', d.handoff.startYield),
      retireYield: r.bool('HANDOFF_RETIRE_YIELD', d.handoff.retireYield),
      yieldDir: r.string('HANDOFF_YIELD_DIR', d.handoff.yieldDir, /^\//, 'an absolute path to a directory the instances share'),
      takeOverChrome: r.bool('HANDOFF_TAKE_OVER_CHROME', d.handoff.takeOverChrome),
      borrowChrome: r.bool('HANDOFF_BORROW_CHROME', d.handoff.borrowChrome),
    },
    qc: {
      enabled: r.bool('QC_ENABLED', d.qc.enabled),
      browsers: r.int('QC_BROWSERS', d.qc.browsers, 1, 16),
      pagesPerBrowser: r.int('QC_PAGES_PER_BROWSER', d.qc.pagesPerBrowser, 1, 16),
      queueMax: r.int('QC_QUEUE_MAX', d.qc.queueMax, 0, 10_000),
      acquireTimeoutMs: r.int('QC_ACQUIRE_TIMEOUT_MS', d.qc.acquireTimeoutMs, 100, 10 * 60_000),
      jobTimeoutMs: r.int('QC_JOB_TIMEOUT_MS', d.qc.jobTimeoutMs, 100, 10 * 60_000),
      cacheMaxEntries: r.int('QC_CACHE_MAX_ENTRIES', d.qc.cacheMaxEntries, 1, 1_000_000),
      cacheMaxBytes: r.int('QC_CACHE_MAX_BYTES', d.qc.cacheMaxBytes, 1_024, 4 * 1024 ** 3),
      closeTimeoutMs: r.int('QC_CLOSE_TIMEOUT_MS', d.qc.closeTimeoutMs, 0, 10 * 60_000),
      warmUpRender: r.bool('QC_WARM_UP_RENDER', d.qc.warmUpRender),
      isolation: r.oneOf('QC_ISOLATION', d.qc.isolation, ['origin', 'context'] as const),
      chromeNice: r.int('QC_CHROME_NICE', d.qc.chromeNice, 0, MAX_NICE),
      chromeSession: r.oneOf('QC_CHROME_SESSION', d.qc.chromeSession, ['api', 'own'] as const),
      chromeEscapeMs: r.int('QC_CHROME_ESCAPE_MS', d.qc.chromeEscapeMs, 0, 10 * 60_000),
      chromePath: r.string('CHROME_PATH', undefined, /^\//, 'an absolute path to a Chrome or Chromium binary'),
    },
  };
  config.handoff.chromeNice = r.int('HANDOFF_CHROME_NICE', config.qc.chromeNice, 0, MAX_NICE);
  // A successor's Chromium goes back to QC_CHROME_NICE later, and only lowering needs no privilege.
  config.handoff.successorChromeNice = r.int('HANDOFF_SUCCESSOR_CHROME_NICE', config.qc.chromeNice, 0, MAX_NICE);
  if (config.handoff.successorChromeNice > config.qc.chromeNice) {
    r.problem(
      'HANDOFF_SUCCESSOR_CHROME_NICE',
      `at most QC_CHROME_NICE (${config.qc.chromeNice}): a successor's Chromium goes back to QC_CHROME_NICE once its predecessor has exited, and an unprivileged process cannot raise a priority again`,
      String(config.handoff.successorChromeNice),
    );
  }
  // A Chromium in a session of its own has a starvation escape of its launcher's, which cannot move.
  if (config.handoff.takeOverChrome && config.qc.chromeSession !== 'api') {
    r.problem('HANDOFF_TAKE_OVER_CHROME', `false with QC_CHROME_SESSION=${config.qc.chromeSession}: only a Chromium in the API's session (QC_CHROME_SESSION=api) is taken over`, 'true');
  }
  if (config.handoff.borrowChrome && config.qc.chromeSession !== 'api') {
    r.problem('HANDOFF_BORROW_CHROME', `false with QC_CHROME_SESSION=${config.qc.chromeSession}: only a Chromium in the API's session (QC_CHROME_SESSION=api) is lent`, 'true');
  }
  if (config.handoff.borrowChrome && config.handoff.takeOverChrome) {
    r.problem('HANDOFF_BORROW_CHROME', 'false with HANDOFF_TAKE_OVER_CHROME=true: a successor either borrows the Chromium during its start or takes it over at the switch', 'true');
  }
  if (config.headersTimeoutMs <= config.keepAliveTimeoutMs) {
    r.problem('HEADERS_TIMEOUT_MS', `greater than KEEP_ALIVE_TIMEOUT_MS (${config.keepAliveTimeoutMs})`, String(config.headersTimeoutMs));
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
