import { check } from '@edu-agents/health-client';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_MAIN, isAlive, killLeftoverApis, readPid, runCli, startApi, track, waitFor } from '@edu-agents/e2e-support';

const POOL_ENV = { QC_ENABLED: 'true', QC_BROWSERS: '1', QC_PAGES_PER_BROWSER: '1', CHROME_PATH: '/usr/bin/chromium' };
const START = `QC_ENABLED=true QC_BROWSERS=1 QC_PAGES_PER_BROWSER=1 CHROME_PATH=/usr/bin/chromium LOG_FORMAT=text HOST=127.0.0.1 node ${API_MAIN}`;

describe('restart-cli with the real Chrome pool', () => {
  let dir: string;
  /** Every API of the test, whose Chromium profile directory must be gone after it. */
  const apiPids: number[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-cli-pool-'));
  });

  afterEach(async () => {
    track(readPid(join(dir, 'api.pid')));
    // SIGTERM first: the instance left serving closes its Chromium and removes its profile
    // directory; killed at once, it left both behind in /tmp.
    await killLeftoverApis(15_000);
    await rm(dir, { recursive: true, force: true });
    // The pool's PROFILE_PREFIX (this project may not import qc-chrome-pool).
    const pids = apiPids.splice(0);
    expect(readdirSync(tmpdir()).filter((name) => pids.some((pid) => name.startsWith(`edu-agents-qc-${pid}-`)))).toEqual([]);
  });

  it('graceful restart finishes a QC job in flight and the new instance is ready with its pool up', async () => {
    const pidFile = join(dir, 'api.pid');
    const api = await startApi(POOL_ENV, { pidFile });
    apiPids.push(api.pid);
    await waitFor('the pool to be ready', async () => (await check(api.healthUrl)).state === 'ready', 60_000);

    // A job that keeps its page busy for about two seconds.
    const html = '<!doctype html><title>slow</title><p>x</p><script>const t = Date.now(); while (Date.now() - t < 2000) {}</script>';
    const job = fetch(`http://127.0.0.1:${api.port}/qc/check`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ html }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { renderTimeMs: number } }));
    await waitFor('the job to be in flight', async () => ((await check(api.healthUrl)).inFlight ?? 0) >= 1);

    const run = await runCli([
      'graceful', '--pid-file', pidFile, '--start', `PORT=${api.port} ${START}`, '--url', api.healthUrl, '--timeout', '60s', '--interval', '100ms', '--json',
    ]).done;
    const result = JSON.parse(run.stdout);
    track(result.newPid);
    apiPids.push(result.newPid);
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    const answer = await job;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ cached: false, pageErrors: [] });
    expect(answer.body.renderTimeMs).toBeGreaterThanOrEqual(1500);
    expect(result.newPid).not.toBe(api.pid);
    const after = await check(api.healthUrl);
    expect(after).toMatchObject({ state: 'ready', pid: result.newPid });
    expect((after.body as { details: { qc: { status: string } } }).details.qc.status).toBe('up');
    expect(isAlive(api.pid)).toBe(false);
  }, 120_000);
});
