import { BrowserCrashedError, JobCancelledError, JobTimeoutError, QueueFullError, type QcPool } from '../index';
import { job, launchTestPool, waitFor } from '../../test-support/chrome-test-helpers';

const busy = (ms: number, tag: string) => `<p>${tag}</p><script>const end = Date.now() + ${ms}; while (Date.now() < end) {}</script>`;

describe('identical jobs at the same time share one render (real Chromium)', () => {
  let pool: QcPool;
  afterEach(async () => {
    await pool.close({ deadlineMs: 1_000 });
  });

  it('renders 40 identical concurrent jobs once, answers all 40, each with its own copy', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 2, queueMax: 1 });
    const html = `<h1>Forty readers</h1><img src="missing.png" alt="x"><script>console.error('once per render')</script>`;
    const reports = await Promise.all(Array.from({ length: 40 }, () => pool.check(job(html))));
    expect(pool.stats().jobs).toMatchObject({ done: 1, failed: 0, rejected: 0 });
    expect(pool.stats().cache).toMatchObject({ coalesced: 39 });
    for (const report of reports) expect(report).toEqual(reports[0]);
    expect(new Set(reports).size).toBe(40);
    reports[0].consoleErrors.push({ text: 'a caller scribbled on its copy' });
    expect(reports[1].consoleErrors).toHaveLength(1);
    expect((await pool.check(job(html))).consoleErrors).toHaveLength(1); // the cached one is untouched too
  });

  it('calls onRender once per render, not per caller or cache hit, and its end once the slot is free again', async () => {
    const events: string[] = [];
    pool = await launchTestPool({ pagesPerBrowser: 1, onRender: () => (events.push('begin'), () => events.push(`end, ${pool.stats().slots.busy} busy`)) });
    const html = busy(300, 'watched');
    await Promise.all([pool.check(job(html)), pool.check(job(html))]);
    await waitFor(() => events.length === 2, 20_000, 10);
    await pool.check(job(html)); // a cache hit renders nothing
    expect(events).toEqual(['begin', 'end, 0 busy']);
  });

  it("keeps rendering for the others when one caller's timeout passes, and counts no timeout", async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1 });
    const html = busy(1_500, 'slow but fine');
    const impatient = pool.check(job(html, 200));
    const patient = pool.check(job(html));
    await expect(impatient).rejects.toBeInstanceOf(JobTimeoutError);
    await expect(patient).resolves.toMatchObject({ ok: true });
    expect(pool.stats().jobs).toMatchObject({ done: 1, timedOut: 0, cancelled: 0 });
  });

  it('keeps rendering for the others when one caller goes away', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1 });
    const html = busy(1_500, 'one leaves');
    const gone = new AbortController();
    const leaving = pool.check(job(html), { signal: gone.signal });
    const staying = pool.check(job(html));
    await waitFor(() => pool.stats().slots.busy === 1, 20_000, 10);
    gone.abort();
    await expect(leaving).rejects.toBeInstanceOf(JobCancelledError);
    await expect(staying).resolves.toMatchObject({ ok: true });
    expect(pool.stats().jobs).toMatchObject({ done: 1, cancelled: 0 });
  });

  it('stops the render when every caller has gone away, and the slot serves the next job', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1 });
    const html = '<p>spins</p><script>for (;;) {}</script>';
    const callers = [new AbortController(), new AbortController()];
    const waiting = callers.map((c) => pool.check(job(html), { signal: c.signal }).catch((e: unknown) => e));
    await waitFor(() => pool.stats().slots.busy === 1, 20_000, 10);
    for (const c of callers) c.abort();
    for (const outcome of await Promise.all(waiting)) expect(outcome).toBeInstanceOf(JobCancelledError);
    expect(await waitFor(() => pool.stats().jobs.cancelled === 1, 20_000)).toBe(true);
    await expect(pool.check(job('<p>next</p>'))).resolves.toMatchObject({ ok: true });
  });

  it('fails every caller of a failed render with the same error', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1 });
    const html = busy(5_000, 'doomed');
    const callers = [1, 2, 3].map(() => pool.check(job(html)).catch((e: unknown) => e));
    await waitFor(() => pool.stats().slots.busy === 1, 20_000, 10);
    process.kill(pool.stats().browserProcesses[0].pid, 'SIGKILL');
    const [a, b, c] = await Promise.all(callers);
    expect(a).toBeInstanceOf(BrowserCrashedError);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(pool.stats().jobs).toMatchObject({ failed: 1 });
  });

  it('counts renders, not callers, against the queue bound', async () => {
    pool = await launchTestPool({ pagesPerBrowser: 1, queueMax: 1 });
    const running = pool.check(job(busy(1_500, 'holds the slot')));
    await waitFor(() => pool.stats().slots.busy === 1, 20_000, 10);
    const queued = Array.from({ length: 5 }, () => pool.check(job('<p>five callers, one queue place</p>')));
    expect(pool.stats().queueLength).toBe(1);
    await expect(pool.check(job('<p>another render</p>'))).rejects.toBeInstanceOf(QueueFullError);
    await expect(Promise.all([running, ...queued])).resolves.toHaveLength(6);
    expect(pool.stats().jobs).toMatchObject({ done: 2, rejected: 1 });
    expect(pool.stats().cache.coalesced).toBe(4);
  });
});
