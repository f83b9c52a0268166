import { API_MAIN, ApiRelease, isAlive, killLeftoverApis, processTree, startApi, waitFor, waitReady, WORKSPACE } from '@edu-agents/e2e-support';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadsSchedOf } from '../support/chrome-procs';
import { handOff, handoffDetails, health, isRunning, logLines, type LogLine } from './handoff-support';

// HANDOFF_TAKE_OVER_CHROME: at the switch the old process passes its running Chromium, with its
// warm pages, over the handoff's channel; the successor goes on with it instead of launching one.
// Real API processes, real Chromium, real signals; QC requests run all through both handoffs.
const SCHED_IDLE = 5;

interface QcStats {
  browsers: number;
  browserProcesses: { pid: number; profileDir: string }[];
}

/** A temporary directory per test, and no API left after it. */
function tempDirPerTest(prefix: string): () => string {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await killLeftoverApis();
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** An API of `release` with QC and `env`, ready; with a QC check of a small lesson (its status) and its Chromium's pid. */
async function startRelease(release: ApiRelease, dir: string, env: Record<string, string>) {
  const pidFile = join(dir, 'api.pid');
  const api = await startApi({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', QC_ENABLED: 'true', HANDOFF_TIMEOUT_MS: 20_000, ...env }, { main: release.main, pidFile, timeoutMs: 60_000 });
  await waitReady(api.port);
  const base = `http://127.0.0.1:${api.port}`;
  const check = async (title: string) => (await fetch(`${base}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html: `<main><h1>${title}</h1></main>` }) })).status;
  const chromePid = async () => ((await (await fetch(`${base}/qc-stats`)).json()) as QcStats).browserProcesses[0]?.pid as number;
  return { api, pidFile, check, chromePid };
}

/**
 * An API with `env` through two handoffs, with QC requests one after another all through them (each
 * a new lesson, so none comes from the cache): every answer came with the lesson's blocked image
 * (the network guard held), and one Chromium served all along, out of the old processes'
 * SCHED_IDLE. Then the last process's SIGTERM ends it with its profile. `check` looks at the
 * processes' logs before that, given each handoff's old and new pid.
 */
async function twoHandoffsUnderQc(dir: string, env: Record<string, string>, check: (lines: LogLine[], handoffs: { oldPid: number; newPid: number }[]) => void): Promise<void> {
  const pidFile = join(dir, 'api.pid');
  const api = await startApi({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', QC_ENABLED: 'true', HANDOFF_RETIRE_AFTER_MS: '300', ...env }, { pidFile, timeoutMs: 60_000 });
  await waitReady(api.port);
  const base = `http://127.0.0.1:${api.port}`;
  const stats = async () => (await (await fetch(`${base}/qc-stats`)).json()) as QcStats;
  const [chrome] = (await stats()).browserProcesses;
  expect(chrome).toBeDefined();

  let stop = false;
  const answers: { status: number; blocked: number; body?: unknown }[] = [];
  const checking = (async () => {
    for (let i = 0; !stop; i += 1) {
      const html = `<main><h1>Lesson ${i}</h1><img src="https://example.com/${i}.png" alt="figure"></main>`;
      const response = await fetch(`${base}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html }) });
      const body = (await response.json()) as { blockedRequests?: unknown[] };
      answers.push({ status: response.status, blocked: body.blockedRequests?.length ?? -1, ...(response.status === 200 ? {} : { body }) });
    }
  })();
  const first = await handOff(api, pidFile);
  const second = await handOff(api, pidFile);
  const atSecond = answers.length;
  await waitFor('a few QC answers after the second handoff', () => answers.length >= atSecond + 3 || undefined, 30_000);
  stop = true;
  await checking;

  expect(answers.filter((a) => a.status !== 200 || a.blocked !== 1)).toEqual([]);
  expect((await stats()).browserProcesses).toEqual([expect.objectContaining({ pid: chrome?.pid, profileDir: chrome?.profileDir })]);
  check(logLines(api), [first, second]);
  // The old processes went to SCHED_IDLE as they retired; the browser they passed on did not.
  expect(threadsSchedOf(chrome?.pid as number).filter((t) => t.policy === SCHED_IDLE)).toEqual([]);

  process.kill(second.newPid, 'SIGTERM');
  await waitFor('the last process to exit', () => !isRunning(second.newPid) || undefined, 30_000);
  await waitFor('the Chromium to be gone with its profile', () => (!isRunning(chrome?.pid as number) && !existsSync(chrome?.profileDir as string)) || undefined, 15_000);
}

describe('a successor takes over the old process\'s Chromium (HANDOFF_TAKE_OVER_CHROME)', () => {
  const tempDir = tempDirPerTest('edu-handoff-take-over-');

  it('goes on with the same browser through two handoffs, fails no QC request, keeps it out of the old process\'s SCHED_IDLE, and closes it at the end', async () => {
    await twoHandoffsUnderQc(tempDir(), { HANDOFF_TAKE_OVER_CHROME: 'true' }, (lines, handoffs) => {
      for (const { oldPid, newPid } of handoffs) {
        expect(lines.filter((l) => l.pid === oldPid).map((l) => l.msg)).toContainEqual(expect.stringMatching(/^handed over: passed 1 Chromium with their warm pages to the successor$/));
        expect(lines.filter((l) => l.pid === newPid).map((l) => l.msg)).toContainEqual('handoff: took over 1 of the predecessor\'s Chromium at the switch');
      }
    });
  }, 240_000);

  it('a build that fails to start takes nothing: the old process keeps its Chromium and renders on, and the next good build takes it over', async () => {
    const release = new ApiRelease('take-over-broken');
    try {
      const { api, pidFile, check, chromePid } = await startRelease(release, tempDir(), { HANDOFF_TAKE_OVER_CHROME: 'true' });
      const before = await chromePid();

      release.deployBroken("throw new Error('broken build: the lesson store driver is missing');\n");
      api.signal('SIGHUP');
      await waitFor('the broken build\'s attempt to fail', async () => {
        const h = await handoffDetails(api);
        return h.attempts === 1 && h.state === 'idle' ? true : undefined;
      }, 60_000);
      expect(await health(api)).toMatchObject({ state: 'ready', pid: api.pid });
      expect([await chromePid(), await check('after the broken build')]).toEqual([before, 200]);
      expect(logLines(api).map((l) => l.msg).filter((m) => /passed \d+ Chromium/.test(m))).toEqual([]);

      release.deployGood();
      const { newPid } = await handOff(api, pidFile);
      expect([await chromePid(), await check('after the good build')]).toEqual([before, 200]);
      expect(logLines(api).filter((l) => l.pid === newPid).map((l) => l.msg)).toContain('handoff: took over 1 of the predecessor\'s Chromium at the switch');
    } finally {
      release.remove();
    }
  }, 240_000);

  it('a successor whose Chromium settings differ launches its own: nothing is passed, and the old Chromium goes with the old process', async () => {
    const release = new ApiRelease('take-over-settings');
    try {
      const pidFile = join(tempDir(), 'api.pid');
      const api = await startApi({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', QC_ENABLED: 'true', HANDOFF_TAKE_OVER_CHROME: 'true', HANDOFF_RETIRE_AFTER_MS: '300' }, { main: release.main, pidFile, timeoutMs: 60_000 });
      await waitReady(api.port);
      const base = `http://127.0.0.1:${api.port}`;
      const [old] = ((await (await fetch(`${base}/qc-stats`)).json()) as QcStats).browserProcesses;
      // The next build runs Chromium at another nice value: another fingerprint.
      release.deployBroken(`process.env.QC_CHROME_NICE = '18';\nrequire(${JSON.stringify(join(WORKSPACE, API_MAIN, '..', 'api.js'))});\n`);
      const { oldPid, newPid } = await handOff(api, pidFile);
      const [now] = ((await (await fetch(`${base}/qc-stats`)).json()) as QcStats).browserProcesses;
      expect(now?.pid).not.toBe(old?.pid);
      const lines = logLines(api);
      expect(lines.filter((l) => l.pid === newPid).map((l) => l.msg)).toContainEqual(expect.stringMatching(/^handoff: launching Chromium: its Chromium was started with other settings/));
      expect(lines.filter((l) => l.pid === oldPid).map((l) => l.msg)).toContain('handed over: the successor launched its own Chromium; this one goes as this process retires');
      await waitFor('the old Chromium to be gone with its process', () => (!isRunning(old?.pid as number) && !existsSync(old?.profileDir as string)) || undefined, 15_000);
      expect((await fetch(`${base}/qc/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html: '<main><h1>Own Chromium</h1></main>' }) })).status).toBe(200);
    } finally {
      release.remove();
    }
  }, 240_000);
});

/** Live renderer processes of the Chromium `pid`. */
function renderersOf(pid: number): number[] {
  return processTree(pid).filter((p) => {
    try {
      return isAlive(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer');
    } catch {
      return false; // gone while we looked
    }
  });
}

// HANDOFF_BORROW_CHROME: the old process lends its running Chromium to the successor while it starts;
// the successor opens and warms pages of its own in it through a DevTools session the old process
// relays, and at the switch only the pipe moves. Real API processes, real Chromium, real signals.
describe('a successor borrows the old process\'s Chromium while it starts (HANDOFF_BORROW_CHROME)', () => {
  const tempDir = tempDirPerTest('edu-handoff-borrow-');

  it('renders through two handoffs on one Chromium that no successor launched, fails no QC request, and closes it at the end', async () => {
    await twoHandoffsUnderQc(tempDir(), { HANDOFF_BORROW_CHROME: 'true' }, (lines, handoffs) => {
      for (const { oldPid, newPid } of handoffs) {
        const own = (pid: number) => lines.filter((l) => l.pid === pid).map((l) => l.msg);
        expect(own(oldPid)).toContainEqual(expect.stringMatching(/^handoff: lent 1 Chromium to successor \d+ while it starts$/));
        expect(own(oldPid)).toContain('handed over: passed the pipes of 1 Chromium it lent to the successor');
        expect(own(newPid)).toContain('handoff: borrowed 1 of the predecessor\'s Chromium, with pages of its own');
        expect(own(newPid)).toContain('handoff: holds the pipes of 1 borrowed Chromium at the switch');
        expect(own(newPid).filter((m) => /Chrome started/.test(m))).toEqual([]);
      }
    });
  }, 240_000);

  it('a build that fails after it borrowed leaves the old process\'s Chromium as it was: its pages are taken back, and the next good build borrows', async () => {
    const release = new ApiRelease('borrow-broken');
    try {
      const { api, pidFile, check, chromePid } = await startRelease(release, tempDir(), { HANDOFF_BORROW_CHROME: 'true' });
      const before = await chromePid();
      const renderers = renderersOf(before).length;

      // This build dies right after it borrowed (its pages are open in the old process's Chromium), before its ready.
      const main = JSON.stringify(join(WORKSPACE, API_MAIN, '..', 'api.js'));
      release.deployBroken(`const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (String(chunk).includes('borrowed 1 of the predecessor')) setImmediate(() => process.exit(3));
  return write(chunk, ...rest);
};
require(${main});
`);
      api.signal('SIGHUP');
      await waitFor('the borrowing build\'s attempt to fail', async () => {
        const h = await handoffDetails(api);
        return h.attempts === 1 && h.state === 'idle' ? true : undefined;
      }, 60_000);
      await waitFor('the old process to take back what the build opened', () => logLines(api).some((l) => /^handoff: successor \d+ exited with Chromium lent; took back what it opened$/.test(l.msg)) || undefined, 15_000);
      expect(await health(api)).toMatchObject({ state: 'ready', pid: api.pid });
      expect([await chromePid(), await check('after the broken build')]).toEqual([before, 200]);
      await waitFor('the broken build\'s pages to be gone', () => renderersOf(before).length <= renderers || undefined, 15_000);

      release.deployGood();
      const { newPid } = await handOff(api, pidFile);
      expect([await chromePid(), await check('after the good build')]).toEqual([before, 200]);
      expect(logLines(api).filter((l) => l.pid === newPid).map((l) => l.msg)).toContain('handoff: holds the pipes of 1 borrowed Chromium at the switch');
    } finally {
      release.remove();
    }
  }, 240_000);
});
