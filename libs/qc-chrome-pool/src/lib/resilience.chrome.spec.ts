import { BrowserCrashedError, JobTimeoutError, type QcPool } from '../index';
import { job, launchTestPool, liveChromeProcs, waitFor } from '../../test-support/chrome-test-helpers';
import { CLOCK_TICKS_PER_SEC, listProcs } from './proc-tree';

const ENDLESS = '<p>spinner</p><script>for (;;) {}</script>';

/** CPU share (1.0 = one core) used by the pool's renderers over `windowMs`. */
async function rendererCpuShare(pgid: number, windowMs: number): Promise<number> {
  const ticks = () =>
    listProcs()
      .filter((p) => p.pgid === pgid && p.cmdline.some((a) => a === '--type=renderer'))
      .reduce((sum, p) => sum + p.cpuTicks, 0);
  const before = ticks();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return (ticks() - before) / CLOCK_TICKS_PER_SEC / (windowMs / 1000);
}

describe.each(['origin', 'context'] as const)('timeouts and crashes on real Chromium (isolation=%s)', (isolation) => {
  let pool: QcPool;
  beforeEach(async () => {
    pool = await launchTestPool({ isolation, pagesPerBrowser: 2 });
  });
  afterEach(async () => {
    await pool.close({ deadlineMs: 1_000 });
  });

  it('ends an endless script with JobTimeoutError, really stops it, and the next job succeeds', async () => {
    await expect(pool.check(job(ENDLESS, 1_000))).rejects.toBeInstanceOf(JobTimeoutError);
    const pgid = pool.stats().browserProcesses[0].pid;
    // a script that kept running would burn a whole core in its renderer
    expect(await waitFor(async () => (await rendererCpuShare(pgid, 500)) < 0.3, 5_000, 0)).toBe(true);
    await expect(pool.check(job('<p>next</p>'))).resolves.toMatchObject({ ok: true });
    expect(pool.stats().jobs).toMatchObject({ timedOut: 1, done: 1 });
  });

  it('survives kill -9 of Chrome during jobs: running jobs fail clearly, later jobs succeed, the restart is counted', async () => {
    const [{ pid, profileDir }] = pool.stats().browserProcesses;
    const running = [1, 2].map((n) => pool.check(job(`<p>${n}</p><script>const e = Date.now() + 3000; while (Date.now() < e) {}</script>`)).catch((e: unknown) => e));
    await waitFor(() => pool.stats().slots.busy === 2, 5_000, 10);
    process.kill(pid, 'SIGKILL');
    for (const outcome of await Promise.all(running)) expect(outcome).toBeInstanceOf(BrowserCrashedError);
    expect(await waitFor(() => pool.stats().browserRestarts === 1, 15_000)).toBe(true);
    await expect(pool.check(job('<p>after the crash</p>'))).resolves.toMatchObject({ ok: true });
    expect(pool.health()).toEqual({ up: true, browsers: 1 });
    expect(await waitFor(() => liveChromeProcs(profileDir, pid).length === 0, 5_000)).toBe(true);
  });
});
