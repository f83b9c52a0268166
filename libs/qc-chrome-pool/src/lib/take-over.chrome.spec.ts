import { QcPool, QC_POOL_DEFAULTS, type QcPool as Pool } from '../index';
import { job, launchTestPool, liveChromeProcs, waitFor } from '../../test-support/chrome-test-helpers';
import { removeProfile } from './profile-dir';
import { descendantsOf } from './proc-tree';

/** Chromium's processes this test process started (the let-go browser stays one of them: it was spawned here). */
const ourChromes = () => descendantsOf(process.pid).filter((p) => p.state !== 'Z' && /chrom/i.test(p.cmdline.join(' ')) && !p.cmdline.some((arg) => arg.startsWith('--type='))).map((p) => p.pid);

/**
 * One pool lets go of its running Chromium and warm pages; another goes on with them over the same
 * DevTools pipe. Here both pools are in this process (the streams pass as they are); the API passes
 * the pipe's ends to its successor over the handoff's IPC channel (apps/api's take-over e2e).
 */
describe('taking over a running Chromium (QcPool.letGo / QcPool.adopt)', () => {
  let first: Pool | undefined;
  let second: Pool | undefined;

  afterEach(async () => {
    await first?.close({ deadlineMs: 1_000 });
    await second?.close({ deadlineMs: 1_000 });
    first = second = undefined;
  });

  it('goes on with the same browser and its warm pages, guarded by the new pool: the network guard, the report and a screenshot', async () => {
    first = await launchTestPool({ pagesPerBrowser: 2 });
    await first.check(job('<main><h1>Before</h1></main>'));
    const [chrome] = first.stats().browserProcesses;
    const renderersBefore = descendantsOf(chrome?.pid as number).filter((p) => p.cmdline.includes('--type=renderer')).map((p) => p.pid).sort();

    const browsers = await first.letGo();
    expect(browsers.map((b) => ({ pid: b.handover.pid, warm: b.contextIds.length }))).toEqual([{ pid: chrome?.pid, warm: 2 }]);
    // Closing the pool that let go leaves the browser running.
    await first.close({ deadlineMs: 1_000 });
    expect(liveChromeProcs(chrome?.profileDir as string).length).toBeGreaterThan(0);

    const lines: string[] = [];
    second = QcPool.awaiting({ ...QC_POOL_DEFAULTS, chromePath: process.env['CHROME_PATH'], pagesPerBrowser: 2, log: (_level, message) => lines.push(message) });
    expect(second.health()).toMatchObject({ up: true, browsers: 0 });
    const queued = second.check(job('<main><h1>Queued before the browser came</h1></main>'));
    expect(await second.adopt(browsers)).toBe(1);
    expect(second.stats().browserProcesses.map((p) => p.pid)).toEqual([chrome?.pid]);
    await expect(queued).resolves.toMatchObject({ ok: true });
    // No launch, and no warm-up render: the first jobs take the slots at once.
    expect(lines.filter((l) => /Chrome started|warm-up render/.test(l))).toEqual([]);

    const report = await second.check(job('<main><h1>After</h1><img src="https://example.com/x.png" alt="x"><script>fetch("https://example.com/beacon")</script></main>'));
    expect(report.blockedRequests.map((b) => b.url).sort()).toEqual(['https://example.com/beacon', 'https://example.com/x.png']);
    const png = await second.screenshot(job('<main><h1>A picture</h1></main>'), { annotate: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // Its pages' renderers are the ones the first pool warmed (the annotator opened one of its own).
    const renderersAfter = descendantsOf(chrome?.pid as number).filter((p) => p.cmdline.includes('--type=renderer')).map((p) => p.pid);
    expect(renderersBefore.every((pid) => renderersAfter.includes(pid))).toBe(true);
    expect(ourChromes()).toEqual([chrome?.pid]);

    await second.close({ deadlineMs: 1_000 });
    second = undefined;
    expect(liveChromeProcs(chrome?.profileDir as string)).toEqual([]);
  });

  it('launches its own browser when none comes, and a let-go pool refuses new work', async () => {
    first = await launchTestPool({ pagesPerBrowser: 1 });
    const browsers = await first.letGo();
    await expect(first.check(job('<p>too late</p>'))).rejects.toThrow(/closed/i);
    second = QcPool.awaiting({ ...QC_POOL_DEFAULTS, chromePath: process.env['CHROME_PATH'], pagesPerBrowser: 1 });
    await second.launchOwn();
    expect(second.stats().browsers).toBe(1);
    await expect(second.check(job('<p>own</p>'))).resolves.toMatchObject({ ok: true });
    // The let-go browser nobody took: once the ends of its pipe are closed, it exits by itself.
    for (const b of browsers) {
      b.toChrome.destroy();
      b.fromChrome.destroy();
    }
    expect(await waitFor(() => browsers.every((b) => liveChromeProcs(b.handover.profileDir).length === 0), 10_000, 50)).toBe(true);
    for (const b of browsers) removeProfile(b.handover.profileDir);
  });

  it('a browser taken over keeps its age and job count: it is recycled after its jobs in both pools together', async () => {
    first = await launchTestPool({ pagesPerBrowser: 1, recycleAfterJobs: 3 });
    await first.check(job('<p>one</p>'));
    await first.check(job('<p>two</p>'));
    const [before] = first.stats().browserProcesses;
    const lines: string[] = [];
    second = QcPool.awaiting({ ...QC_POOL_DEFAULTS, chromePath: process.env['CHROME_PATH'], pagesPerBrowser: 1, recycleAfterJobs: 3, log: (_level, message) => lines.push(message) });
    await second.adopt(await first.letGo());
    await second.check(job('<p>three</p>'));
    expect(await waitFor(() => lines.includes('recycling a QC browser'), 10_000, 20)).toBe(true);
    expect(await waitFor(() => second?.stats().browserProcesses.some((p) => p.pid !== before?.pid) === true, 30_000, 50)).toBe(true);
  });
});
