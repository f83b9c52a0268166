import { API_CONFIG_DEFAULTS, resolveApiConfig } from './api-config';
import { ConfigError } from './env-parsers';

describe('resolveApiConfig', () => {
  it('uses the defaults for an empty environment', () => {
    expect(resolveApiConfig({})).toEqual({ ...API_CONFIG_DEFAULTS, pidFile: undefined, qc: { ...API_CONFIG_DEFAULTS.qc, chromePath: undefined } });
  });

  it('reads every variable it documents', () => {
    const config = resolveApiConfig({
      PORT: '8001', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '9000', SHUTDOWN_DELAY_MS: '5000', KEEP_ALIVE_TIMEOUT_MS: '65000',
      HEADERS_TIMEOUT_MS: '66000', LOG_FORMAT: 'JSON', LOG_LEVEL: 'warn', PID_FILE: 'run/api.pid', QC_ENABLED: 'no', QC_BROWSERS: '3',
      QC_PAGES_PER_BROWSER: '4', QC_QUEUE_MAX: '0', QC_ACQUIRE_TIMEOUT_MS: '1500', QC_JOB_TIMEOUT_MS: '2000', QC_CACHE_MAX_ENTRIES: '10', QC_WARM_UP_RENDER: 'false', QC_ISOLATION: 'context', QC_CHROME_NICE: '10', QC_CHROME_SESSION: 'own', QC_CHROME_ESCAPE_MS: '1500', CHROME_PATH: '/opt/chrome',
      HANDOFF_ENABLED: 'false', HANDOFF_TIMEOUT_MS: '15000', HANDOFF_SUCCESSOR_NICE: '12', HANDOFF_SUCCESSOR_ESCAPE_MS: '4000', HANDOFF_SUCCESSOR_IDLE: 'false', HANDOFF_HELPERS_IDLE_MS: '0', HANDOFF_PREPARE_SUCCESSOR: 'false', HANDOFF_WARM_REQUESTS: '50', HANDOFF_WARM_TIER_UP: 'false', HANDOFF_SETTLE_MS: '1500', HANDOFF_COLLECT_GARBAGE: 'false', HANDOFF_CHROME_NICE: '4', HANDOFF_SUCCESSOR_CHROME_NICE: '7', HANDOFF_RETIRE_AFTER_MS: '800', HANDOFF_RETIRE_IDLE: 'false', HANDOFF_START_YIELD: 'false', HANDOFF_RETIRE_YIELD: 'false', HANDOFF_YIELD_DIR: '/run/edu_agents', HANDOFF_TAKE_OVER_CHROME: 'false', HANDOFF_BORROW_CHROME: 'false',
    });
    expect(config).toMatchObject({
      port: 8001, host: '127.0.0.1', shutdownTimeoutMs: 9000, shutdownDelayMs: 5000, keepAliveTimeoutMs: 65000, headersTimeoutMs: 66000,
      logFormat: 'json', logLevel: 'warn', pidFile: 'run/api.pid', handoff: { enabled: false, timeoutMs: 15000, successorNice: 12, successorEscapeMs: 4000, successorIdle: false, helpersIdleMs: 0, prepareSuccessor: false, warmRequests: 50, warmTierUp: false, settleMs: 1500, collectGarbage: false, chromeNice: 4, successorChromeNice: 7, retireAfterMs: 800, retireIdle: false, startYield: false, retireYield: false, yieldDir: '/run/edu_agents', takeOverChrome: false, borrowChrome: false },
      qc: { enabled: false, browsers: 3, pagesPerBrowser: 4, queueMax: 0, acquireTimeoutMs: 1500, jobTimeoutMs: 2000, cacheMaxEntries: 10, warmUpRender: false, isolation: 'context', chromeNice: 10, chromeSession: 'own', chromeEscapeMs: 1500, chromePath: '/opt/chrome' },
    });
  });

  it('retires the old process 1.5 s after the switch at SCHED_IDLE by default, and names a delay out of range', () => {
    expect(resolveApiConfig({}).handoff).toMatchObject({ retireAfterMs: 1_500, retireIdle: true });
    expect(resolveApiConfig({ HANDOFF_RETIRE_AFTER_MS: '0' }).handoff.retireAfterMs).toBe(0);
    expect(() => resolveApiConfig({ HANDOFF_RETIRE_AFTER_MS: '60000' })).toThrow(/HANDOFF_RETIRE_AFTER_MS="60000": must be an integer from 0 to 30000/);
  });

  it('keeps a successor\'s helper threads at SCHED_IDLE 3 s after it listens by default, and names a value out of range', () => {
    expect(resolveApiConfig({}).handoff.helpersIdleMs).toBe(3_000);
    expect(() => resolveApiConfig({ HANDOFF_HELPERS_IDLE_MS: '-5' })).toThrow(/HANDOFF_HELPERS_IDLE_MS="-5": must be an integer from 0 to 60000/);
  });

  it('lets a successor\'s start yield to the old process\'s renders by default', () => {
    expect(resolveApiConfig({}).handoff.startYield).toBe(true);
    expect(() => resolveApiConfig({ HANDOFF_START_YIELD: 'sometimes' })).toThrow(/HANDOFF_START_YIELD="sometimes"/);
    expect(resolveApiConfig({}).handoff.retireYield).toBe(true);
    expect(resolveApiConfig({}).handoff.takeOverChrome).toBe(false);
    expect(resolveApiConfig({ HANDOFF_TAKE_OVER_CHROME: 'true' }).handoff.takeOverChrome).toBe(true);
    expect(() => resolveApiConfig({ HANDOFF_TAKE_OVER_CHROME: 'sometimes' })).toThrow(/HANDOFF_TAKE_OVER_CHROME="sometimes"/);
    expect(() => resolveApiConfig({ HANDOFF_TAKE_OVER_CHROME: 'true', QC_CHROME_SESSION: 'own' })).toThrow(/HANDOFF_TAKE_OVER_CHROME.*QC_CHROME_SESSION=own/);
    expect(resolveApiConfig({}).handoff.borrowChrome).toBe(false);
    expect(resolveApiConfig({ HANDOFF_BORROW_CHROME: 'true' }).handoff.borrowChrome).toBe(true);
    expect(() => resolveApiConfig({ HANDOFF_BORROW_CHROME: 'true', QC_CHROME_SESSION: 'own' })).toThrow(/HANDOFF_BORROW_CHROME.*QC_CHROME_SESSION=own/);
    expect(() => resolveApiConfig({ HANDOFF_BORROW_CHROME: 'true', HANDOFF_TAKE_OVER_CHROME: 'true' })).toThrow(/HANDOFF_BORROW_CHROME.*either borrows/);
    expect(() => resolveApiConfig({ HANDOFF_RETIRE_YIELD: 'maybe' })).toThrow(/HANDOFF_RETIRE_YIELD="maybe"/);
  });

  it('yields to its own renders only unless HANDOFF_YIELD_DIR names a directory the instances share, as an absolute path', () => {
    expect(resolveApiConfig({}).handoff.yieldDir).toBeUndefined();
    expect(() => resolveApiConfig({ HANDOFF_YIELD_DIR: 'run/edu_agents' })).toThrow(/HANDOFF_YIELD_DIR="run\/edu_agents": must be an absolute path to a directory the instances share/);
  });

  it('treats an empty value as unset', () => {
    expect(resolveApiConfig({ PORT: '  ' }).port).toBe(API_CONFIG_DEFAULTS.port);
  });

  it('leaves the Chromium of a process whose successor starts at QC_CHROME_NICE unless HANDOFF_CHROME_NICE says otherwise', () => {
    expect(resolveApiConfig({}).handoff.chromeNice).toBe(19);
    expect(resolveApiConfig({ QC_CHROME_NICE: '12' }).handoff.chromeNice).toBe(12);
    expect(resolveApiConfig({ QC_CHROME_NICE: '12', HANDOFF_CHROME_NICE: '5' }).handoff.chromeNice).toBe(5);
    expect(() => resolveApiConfig({ HANDOFF_CHROME_NICE: '-1' })).toThrow(/HANDOFF_CHROME_NICE="-1": must be an integer from 0 to 19/);
  });

  it("runs a successor's Chromium at QC_CHROME_NICE unless HANDOFF_SUCCESSOR_CHROME_NICE says otherwise, never above it, since it goes back to it", () => {
    expect(resolveApiConfig({}).handoff.successorChromeNice).toBe(19);
    expect(resolveApiConfig({ QC_CHROME_NICE: '5' }).handoff.successorChromeNice).toBe(5);
    expect(resolveApiConfig({ HANDOFF_SUCCESSOR_CHROME_NICE: '10' }).handoff.successorChromeNice).toBe(10);
    expect(() => resolveApiConfig({ QC_CHROME_NICE: '12', HANDOFF_SUCCESSOR_CHROME_NICE: '15' })).toThrow(
      /HANDOFF_SUCCESSOR_CHROME_NICE="15": must be at most QC_CHROME_NICE \(12\): a successor's Chromium goes back to QC_CHROME_NICE/,
    );
    expect(() => resolveApiConfig({ HANDOFF_SUCCESSOR_CHROME_NICE: '20' })).toThrow(/HANDOFF_SUCCESSOR_CHROME_NICE="20": must be an integer from 0 to 19/);
  });

  it('lists every invalid variable with what is allowed', () => {
    let error: unknown;
    try {
      resolveApiConfig({ PORT: '70000', QC_ENABLED: 'maybe', CHROME_PATH: 'chromium', SHUTDOWN_DELAY_MS: '1.5', HANDOFF_TIMEOUT_MS: '10', QC_CHROME_NICE: '20', QC_CHROME_SESSION: 'detached' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['PORT', 'SHUTDOWN_DELAY_MS', 'HANDOFF_TIMEOUT_MS', 'QC_ENABLED', 'QC_CHROME_NICE', 'QC_CHROME_SESSION', 'CHROME_PATH']);
    expect((error as ConfigError).message).toMatch(/PORT="70000": must be an integer from 0 to 65535/);
    expect((error as ConfigError).message).toMatch(/QC_CHROME_NICE="20": must be an integer from 0 to 19/);
    expect((error as ConfigError).message).toMatch(/QC_CHROME_SESSION="detached": must be one of api, own/);
  });

  it('keeps headersTimeout above keepAliveTimeout, as Node requires for keep-alive to work', () => {
    expect(() => resolveApiConfig({ KEEP_ALIVE_TIMEOUT_MS: '80000' })).toThrow(/HEADERS_TIMEOUT_MS="76000": must be greater than KEEP_ALIVE_TIMEOUT_MS \(80000\)/);
  });
});
