import { QcPool, QC_POOL_DEFAULTS, type QcPool as Pool, type QcPoolConfig } from '../index';
import { job, launchTestPool, liveChromeProcs, waitFor } from '../../test-support/chrome-test-helpers';
import { descendantsOf } from './proc-tree';

const CONFIG: QcPoolConfig = { ...QC_POOL_DEFAULTS, browsers: 1, pagesPerBrowser: 2, jobTimeoutMs: 20_000 };
const renderersOf = (pid: number) => descendantsOf(pid).filter((p) => p.state !== 'Z' && p.cmdline.includes('--type=renderer')).map((p) => p.pid);
/** As over the handoff's IPC channel: later, and as a copy. */
const later = (deliver: () => void) => void setImmediate(deliver);

/**
 * One pool lends its running Chromium to another (QcPool.lend / QcPool.borrow): the borrower
 * opens pages of its own in it through the lender's relay while the lender goes on rendering, then
 * the pipe moves (QcPool.letGo / QcPool.takePipes). Both pools are in this process here; the API's
 * successor borrows over the handoff's channel (apps/api's take-over e2e).
 */
describe('lending a running Chromium to another pool (QcPool.lend / borrow / takePipes)', () => {
  let lender: Pool | undefined;
  let borrower: Pool | undefined;

  afterEach(async () => {
    await borrower?.close({ deadlineMs: 1_000 });
    await lender?.close({ deadlineMs: 1_000 });
    lender = borrower = undefined;
  });

  it('renders in both pools at once in one Chromium, then the borrower holds the pipe: guarded, and the lender\'s pages gone', async () => {
    lender = await launchTestPool({ pagesPerBrowser: 2 });
    const [chrome] = lender.stats().browserProcesses;
    const pid = chrome?.pid as number;
    const lines: string[] = [];
    const loans = await lender.lend((index, batch) => later(() => borrower?.fromLender(index, structuredClone(batch))));
    expect(loans).toEqual([expect.objectContaining({ index: 0, pid, sessionId: expect.stringMatching(/^[0-9A-F]{32}$/) })]);
    const from = lender;
    borrower = QcPool.awaiting({ ...CONFIG, log: (_level, message) => lines.push(message) });
    expect(await borrower.borrow(loans, (index, batch) => later(() => from.fromBorrower(index, structuredClone(batch))))).toBe(1);
    // No launch: the borrower's pages are in the lender's Chromium, warmed by a render each.
    expect(lines.filter((l) => /Chrome started|not using/.test(l))).toEqual([]);
    expect(lines.filter((l) => /borrowed Chrome/.test(l))).toHaveLength(1);
    expect(borrower.stats().browserProcesses.map((p) => p.pid)).toEqual([pid]);

    const blocked = '<main><h1>Borrowed</h1><img src="https://example.com/b.png" alt="b"></main>';
    const [own, lent] = await Promise.all([lender.check(job('<main><h1>Lender</h1></main>')), borrower.check(job(blocked))]);
    expect(own).toMatchObject({ ok: true });
    expect(lent.blockedRequests.map((b) => b.url)).toEqual(['https://example.com/b.png']);
    expect(renderersOf(pid).length).toBeGreaterThanOrEqual(4);

    const pool = borrower;
    let held = 0;
    // Renders of the borrower go on through the relay while the lender lets go (it waits for its own
    // render first), and are answered over the pipe once it moved.
    const lenderLast = lender.check(job('<main><h1>The lender\'s last</h1></main>'));
    const renders = Array.from({ length: 4 }, (_, i) => borrower?.check(job(`<main><h1>While the pipe moves ${i}</h1></main>`)));
    const letting = lender.letGo(async () => {
      held += 1;
      pool.holdBorrowed();
    });
    await expect(lenderLast).resolves.toMatchObject({ ok: true });
    const browsers = await letting;
    expect(held).toBe(1);
    // (That commands held back go out once the pipe came is cdp-relay.spec's.)
    expect(await borrower.takePipes(browsers)).toBe(1);
    for (const render of renders) await expect(render).resolves.toMatchObject({ ok: true });
    await lender.close({ deadlineMs: 1_000 });
    lender = undefined;
    expect(liveChromeProcs(chrome?.profileDir as string).length).toBeGreaterThan(0);

    const report = await borrower.check(job('<main><h1>After</h1><img src="https://example.com/x.png" alt="x"><script>fetch("https://example.com/beacon")</script></main>'));
    expect(report.blockedRequests.map((b) => b.url).sort()).toEqual(['https://example.com/beacon', 'https://example.com/x.png']);
    const png = await borrower.screenshot(job('<main><h1>A picture</h1></main>'), { annotate: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // The lender's pages went. Asked through a loan of the borrower's own (it holds the pipe, so it can lend in turn):
    const contexts = async (): Promise<string[]> => {
      let answer: (ids: string[]) => void = () => undefined;
      const answered = new Promise<string[]>((resolve) => (answer = resolve));
      const [loan] = await pool.lend((_index, batch) => later(() => {
        for (const message of batch) {
          const parsed = JSON.parse(message) as { id?: number; result?: { browserContextIds?: string[] } };
          if (parsed.id === 1) answer(parsed.result?.browserContextIds ?? []);
        }
      }));
      pool.fromBorrower(0, [JSON.stringify({ id: 1, method: 'Target.getBrowserContexts', params: {}, sessionId: loan?.sessionId })]);
      const ids = await answered;
      await pool.endLoans();
      return ids;
    };
    const lenders = new Set(browsers.flatMap((b) => b.contextIds));
    expect(lenders.size).toBe(2);
    expect(await waitFor(async () => (await contexts()).every((id) => !lenders.has(id)), 10_000, 100)).toBe(true);

    await borrower.close({ deadlineMs: 1_000 });
    borrower = undefined;
    expect(liveChromeProcs(chrome?.profileDir as string)).toEqual([]);
  });

  it('a borrower that does not answer holds up none of the lender\'s renders: no page the lender opens waits for it', async () => {
    // A browser context per job: each of the lender's renders opens a new page, which every client
    // auto-attached to the browser's pages would have to let run.
    lender = await launchTestPool({ pagesPerBrowser: 1, isolation: 'context' });
    // Messages to the borrower wait here while it "is stopped" (a starting successor yields to its predecessor's renders).
    let paused: (() => void)[] | undefined;
    const toBorrower = (deliver: () => void) => (paused ? paused.push(deliver) : later(deliver));
    const loans = await lender.lend((index, batch) => toBorrower(() => borrower?.fromLender(index, structuredClone(batch))));
    const from = lender;
    borrower = QcPool.awaiting({ ...CONFIG, pagesPerBrowser: 1, isolation: 'context' });
    await borrower.borrow(loans, (index, batch) => later(() => from.fromBorrower(index, structuredClone(batch))));
    await expect(borrower.check(job('<p>warm</p>'))).resolves.toMatchObject({ ok: true });

    paused = [];
    const order: string[] = [];
    // A lesson with a frame of another site: a frame of its own in the browser, attached to by whoever is attached to its page.
    const rendered = lender.check(job('<main><h1>While the borrower sleeps</h1><iframe src="data:text/html,<p>inner</p>"></iframe><iframe src="https://example.org/quiz"></iframe></main>')).then((report) => (order.push('lender rendered'), report));
    await waitFor(() => order.length > 0, 20_000, 50);
    order.push('borrower woke');
    const backlog = paused;
    paused = undefined;
    backlog.forEach((deliver) => later(deliver));
    expect((await rendered).blockedRequests.map((b) => b.url)).toEqual(['https://example.org/quiz']);
    expect(order).toEqual(['lender rendered', 'borrower woke']);
    await expect(borrower.check(job('<p>the borrower goes on</p>'))).resolves.toMatchObject({ ok: true });
  });

  it('a borrower that goes away leaves the lender as it was: endLoans closes what it opened, and the borrower launches its own', async () => {
    lender = await launchTestPool({ pagesPerBrowser: 1 });
    const [chrome] = lender.stats().browserProcesses;
    const pid = chrome?.pid as number;
    const alone = renderersOf(pid).length;
    let linked = true;
    const loans = await lender.lend((index, batch) => later(() => linked && borrower?.fromLender(index, structuredClone(batch))));
    const from = lender;
    const lines: string[] = [];
    borrower = QcPool.awaiting({ ...CONFIG, pagesPerBrowser: 1, log: (_level, message) => lines.push(message) });
    expect(await borrower.borrow(loans, (index, batch) => later(() => linked && from.fromBorrower(index, structuredClone(batch))))).toBe(1);
    await expect(borrower.check(job('<p>borrowed</p>'))).resolves.toMatchObject({ ok: true });
    expect(renderersOf(pid).length).toBeGreaterThan(alone);

    // The channel breaks (the borrower's process died): the lender takes back what it opened.
    linked = false;
    await lender.endLoans();
    expect(await waitFor(() => renderersOf(pid).length === alone, 10_000, 50)).toBe(true);
    await expect(lender.check(job('<p>the lender goes on</p>'))).resolves.toMatchObject({ ok: true });

    // A borrower whose lender went launches a Chromium of its own.
    borrower.lenderGone();
    expect(await waitFor(() => (borrower?.stats().browserProcesses ?? []).some((p) => p.pid !== pid), 30_000, 100)).toBe(true);
    await expect(borrower.check(job('<p>on its own</p>'))).resolves.toMatchObject({ ok: true });
    expect(lines.some((l) => /replacing it/.test(l))).toBe(true);
  });
});
