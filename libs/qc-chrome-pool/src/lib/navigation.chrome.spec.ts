import type { QcPool, QcReport } from '../index';
import { contentOf, job, launchTestPool } from '../../test-support/chrome-test-helpers';
import { startSpies, type Spies } from '../../test-support/spies';

// Content that navigates, or tries to: each lesson runs 10 times on the pool's warm pages (two
// slots, reused) and must give a 200-style report every time, the same every time, listing the
// attempt, with the checks run on the lesson's own document (its console error and its image
// without alt text are in every report).
const RUNS = 10;
const NAV = 'navigation away from the job document is not allowed';
const POPUP = 'popup windows are not allowed';

const lesson = (body: string) => `<!doctype html><html><head><title>Navigating lesson</title></head><body>
<h1>Lesson</h1><img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==">
<script>console.error('lesson ran on ' + location.pathname)</script>${body}</body></html>`;

describe('content that navigates, 10 times on warm pages', () => {
  let pool: QcPool;
  let spies: Spies;
  let local: string;
  let serial = 0;

  beforeAll(async () => {
    spies = await startSpies();
    local = `http://127.0.0.1:${spies.tcpPort}`;
    pool = await launchTestPool({ pagesPerBrowser: 2 });
  });
  afterAll(async () => {
    await pool.close();
    await spies.close();
  });
  afterEach(() => {
    expect(spies.seen).toEqual([]);
  });

  /** Renders the lesson RUNS times, two at a time (each run is new content for the cache). */
  async function tenTimes(body: string): Promise<QcReport[]> {
    const reports: QcReport[] = [];
    for (let round = 0; round < RUNS / 2; round += 1) {
      const pair = [0, 1].map(() => pool.check(job(`${lesson(body)}<!-- run ${(serial += 1)} -->`)));
      reports.push(...(await Promise.all(pair)));
    }
    return reports;
  }

  const expectSameReportListing = (reports: QcReport[], blocked: QcReport['blockedRequests']) => {
    expect(reports).toHaveLength(RUNS);
    for (const report of reports) expect(contentOf(report)).toEqual(contentOf(reports[0]));
    const [first] = reports;
    expect(first.blockedRequests).toEqual(blocked);
    expect(first.consoleErrors.map((e) => e.text)).toEqual(['lesson ran on /']); // the job's own document, once
    expect(first.imagesMissingAlt).toHaveLength(1);
    expect(pool.stats().jobs.failed).toBe(0);
  };

  it('meta refresh to a local server', async () => {
    expectSameReportListing(await tenTimes(`<meta http-equiv="refresh" content="0;url=${local}/x">`), [{ url: `${local}/x`, reason: NAV }]);
  });

  it('meta refresh to file://, and one that would fire long after the job', async () => {
    const reports = await tenTimes('<meta http-equiv="refresh" content="0;url=file:///etc/hostname"><meta http-equiv="refresh" content="30; URL=\'later.html\'">');
    expectSameReportListing(reports, [
      { url: 'file:///etc/hostname', reason: 'local file access is not allowed' },
      { url: 'https://content.qc.invalid/later.html', reason: NAV },
    ]);
  });

  it('location.href = a local server', async () => {
    expectSameReportListing(await tenTimes(`<script>location.href = '${local}/x'</script>`), [{ url: `${local}/x`, reason: NAV }]);
  });

  it('form.submit() to a local server', async () => {
    const body = `<form action="${local}/submit" method="post"><input name="answer" value="42"></form><script>document.forms[0].submit()</script>`;
    expectSameReportListing(await tenTimes(body), [{ url: `${local}/submit`, reason: NAV }]);
  });

  it('history.pushState to another path (the URL does not change)', async () => {
    expectSameReportListing(await tenTimes(`<script>history.pushState({ step: 2 }, '', '/step-2')</script>`), [
      { url: 'https://content.qc.invalid/step-2', reason: NAV },
    ]);
  });

  it('popups: window.open and a link with target=_blank', async () => {
    const body = `<a id="l" href="${local}/link" target="_blank">more</a>
      <script>console.log(String(window.open('${local}/open'))); document.getElementById('l').click()</script>`;
    expectSameReportListing(await tenTimes(body), [
      { url: `${local}/link`, reason: POPUP },
      { url: `${local}/open`, reason: POPUP },
    ]);
  });

  it('reload, a blob: document, history.back() and the host page as target', async () => {
    const body = `<script>
      history.back();
      window.open('${local}/top', '_top');
      location.replace(URL.createObjectURL(new Blob(['<p>replaced</p>'], { type: 'text/html' })));
      location.reload();
    </script>`;
    const reports = await tenTimes(body);
    expect(reports.every((r) => r.blockedRequests.some((b) => b.url.startsWith('blob:https://content.qc.invalid/')))).toBe(true);
    // A blob: URL is random by nature; apart from it, the reports are the same. history.back() has
    // nowhere to go (the job's frame has one history entry) and is not an attempt.
    const withoutBlob = reports.map((r) => ({ ...r, blockedRequests: r.blockedRequests.filter((b) => !b.url.startsWith('blob:')) }));
    expectSameReportListing(withoutBlob, [{ url: `${local}/top`, reason: NAV }, { url: 'https://content.qc.invalid/', reason: NAV }]);
  });
});
