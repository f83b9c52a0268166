import { ApiRelease, formatSummary, killLeftoverApis, readPid, startApi, startLoad, STATS_ONLY, summarize, waitFor, type ApiProcess } from '@edu-agents/e2e-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handOff, handoffDetails, health, isRunning } from './handoff-support';

// A new build deployed at the entry path that cannot serve. The old process
// must not notice beyond a log line and its /health entry.
const BUILDS = {
  throwsAtStart: "throw new Error('broken build: the lesson store driver is missing');\n",
  // Starts a long-lived detached child the way puppeteer starts Chromium, says
  // where it is, and never listens.
  neverReady: [
    "const { spawn } = require('node:child_process');",
    "const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });",
    "console.log('broken build: booting, helper pid ' + child.pid);",
    'setInterval(() => undefined, 1000);',
  ].join('\n'),
};

type LastAttempt = { ok: boolean; reason: string; message: string; successorPid: number; output: string[] };

async function failedAttempt(api: ApiProcess, attempt: number): Promise<LastAttempt> {
  return waitFor(`attempt ${attempt} to fail`, async () => {
    const h = await handoffDetails(api);
    const last = h['last'] as LastAttempt | undefined;
    return h.attempts === attempt && h.state === 'idle' && last && !last.ok ? last : undefined;
  }, 60_000);
}

describe('a broken build deployed at the entry path', () => {
  let dir: string;
  let release: ApiRelease;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edu-handoff-broken-'));
    release = new ApiRelease('broken');
  });
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
    release.remove();
  });

  it('fails no request: the old pid serves on, ready, in PID_FILE, and /health shows why; a good build then takes over', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi({ QC_ENABLED: 'false', HANDOFF_TIMEOUT_MS: 20_000, LOG_FORMAT: 'json' }, { main: release.main, pidFile, timeoutMs: 60_000 });
    const load = startLoad({ port: api.port, ratePerSec: 100, maxDurationMs: 120_000, baseClients: 16, request: STATS_ONLY });
    let helperPid: number;
    try {
      release.deployBroken(BUILDS.throwsAtStart);
      api.signal('SIGHUP');
      const thrown = await failedAttempt(api, 1);
      expect(thrown.reason).toBe('exited');
      expect(thrown.output.join('\n')).toContain('broken build: the lesson store driver is missing');

      release.deployBroken(BUILDS.neverReady);
      api.signal('SIGHUP');
      const hung = await failedAttempt(api, 2);
      expect(hung.reason).toBe('timeout');
      helperPid = Number(/helper pid (\d+)/.exec(api.output())?.[1]);
      expect(isRunning(hung.successorPid)).toBe(false);

      expect(await health(api)).toMatchObject({ state: 'ready', pid: api.pid });
      expect(readPid(pidFile)).toBe(api.pid);
    } finally {
      load.stop();
    }
    const summary = summarize(await load.done);
    expect({ failed: summary.all.failed, detail: formatSummary('load during two failed handoffs', summary) }).toMatchObject({ failed: 0 });
    // The successor's whole process tree went with it, detached children included.
    await waitFor('the hung build\'s detached child to be killed', () => !isRunning(helperPid), 10_000);

    release.deployGood();
    const { newPid } = await handOff(api, pidFile);
    expect(await health(api)).toMatchObject({ state: 'ready', pid: newPid });
    expect((await api.exited).code).toBe(0);
  }, 240_000);
});
