import type { Server } from 'node:http';
import type { QcPool, QcReport } from '../index';
import { job, launchTestPool, startRecordingServer } from '../../test-support/chrome-test-helpers';

describe('network guard on real Chromium', () => {
  let pool: QcPool;
  let server: Server;
  let port: number;
  let seen: string[];

  beforeAll(async () => {
    ({ server, port, seen } = await startRecordingServer());
    // settle so that late requests (fetch, worker, WebSocket) land in the report
    pool = await launchTestPool({ settleMs: 800 });
  });
  afterAll(async () => {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    expect(seen).toEqual([]); // the live local server never saw a connection
  });

  const blockedUrls = (report: QcReport) => report.blockedRequests.map((b) => b.url);

  it('blocks and reports the cloud metadata address', async () => {
    const report = await pool.check(job('<img src="http://169.254.169.254/latest/meta-data/" alt="m">'));
    expect(blockedUrls(report)).toEqual(['http://169.254.169.254/latest/meta-data/']);
  });

  it('blocks and reports requests to a live server on 127.0.0.1', async () => {
    const report = await pool.check(
      job(`<img src="http://127.0.0.1:${port}/img" alt="i"><script>fetch('http://127.0.0.1:${port}/fetch').catch(() => 0)</script>`),
    );
    expect(blockedUrls(report).sort()).toEqual([`http://127.0.0.1:${port}/fetch`, `http://127.0.0.1:${port}/img`]);
  });

  it('blocks and reports file:// through img, iframe and fetch', async () => {
    const report = await pool.check(
      job(`<img src="file:///etc/passwd" alt="f"><iframe src="file:///etc/hostname"></iframe>
        <script>fetch('file:///etc/shadow').then(r => r.text()).then(t => console.log(t)).catch(() => 0)</script>`),
    );
    expect(blockedUrls(report).sort()).toEqual(['file:///etc/hostname', 'file:///etc/passwd', 'file:///etc/shadow']);
    expect(report.blockedRequests.every((b) => b.reason.includes('local file'))).toBe(true);
  });

  it('blocks and reports a WebSocket to the live server', async () => {
    const report = await pool.check(job(`<script>new WebSocket('ws://127.0.0.1:${port}/socket')</script>`));
    expect(report.blockedRequests).toEqual([{ url: `ws://127.0.0.1:${port}/socket`, reason: expect.stringContaining('WebSocket') }]);
  });

  it('blocks a redirect to file:// (the redirecting server is never reached) and a navigation to file://', async () => {
    const report = await pool.check(
      job(`<iframe src="http://127.0.0.1:${port}/redirect-to-file"></iframe>
        <script>setTimeout(() => { location.href = 'file:///etc/passwd'; }, 50)</script>`),
    );
    expect(blockedUrls(report).sort()).toEqual(['file:///etc/passwd', `http://127.0.0.1:${port}/redirect-to-file`]);
  });

  it('blocks and reports a fetch made from a Worker', async () => {
    const report = await pool.check(
      job(`<script>
        const src = "fetch('http://127.0.0.1:${port}/from-worker').catch(() => 0)";
        new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
      </script>`),
    );
    expect(blockedUrls(report)).toEqual([`http://127.0.0.1:${port}/from-worker`]);
  });

  it('blocks public hosts and other jobs\' origins but serves data: URIs', async () => {
    const report = await pool.check(
      job(`<script src="https://example.com/tracker.js"></script><img src="https://j1.qc.invalid/x.png" alt="o">
        <img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==" alt="d">`),
    );
    expect(report.blockedRequests.map((b) => b.url).sort()).toEqual(['https://example.com/tracker.js', 'https://j1.qc.invalid/x.png']);
    expect(report.brokenImages).toEqual([{ src: 'https://j1.qc.invalid/x.png' }]);
  });
});
