import type { QcPool, QcReport } from '../index';
import { job, launchTestPool } from '../../test-support/chrome-test-helpers';
import { startSpies, type Spies } from '../../test-support/spies';

// Every request-shaped way out, against a live TCP and UDP listener on 127.0.0.1 that must see
// nothing. The non-HTTP channels (WebRTC, WebSocket, WebTransport, ...) are in network-guard-sockets.
describe('network guard on real Chromium: requests', () => {
  let pool: QcPool;
  let spies: Spies;
  let local: string;

  beforeAll(async () => {
    spies = await startSpies();
    local = `http://127.0.0.1:${spies.tcpPort}`;
    // settle so that late requests (fetch, worker, beacon) land in the report
    pool = await launchTestPool({ settleMs: 800 });
  });
  afterAll(async () => {
    await pool.close();
    await spies.close();
  });
  afterEach(() => {
    expect(spies.seen).toEqual([]); // the live local listeners never heard from Chrome
  });

  const blockedUrls = (report: QcReport) => report.blockedRequests.map((b) => b.url).sort();

  it('blocks and reports the cloud metadata address', async () => {
    const report = await pool.check(job('<img src="http://169.254.169.254/latest/meta-data/" alt="m">'));
    expect(blockedUrls(report)).toEqual(['http://169.254.169.254/latest/meta-data/']);
  });

  it('blocks and reports requests to the live server on 127.0.0.1, localhost, [::1] and 0.0.0.0', async () => {
    const port = spies.tcpPort;
    const report = await pool.check(
      job(`<img src="${local}/img" alt="i"><script>
        for (const u of ['${local}/fetch', 'http://localhost:${port}/lh', 'http://[::1]:${port}/v6', 'http://0.0.0.0:${port}/z']) fetch(u).catch(() => 0);
      </script>`),
    );
    expect(blockedUrls(report)).toEqual(
      [`${local}/fetch`, `${local}/img`, `http://localhost:${port}/lh`, `http://[::1]:${port}/v6`, `http://0.0.0.0:${port}/z`].sort(),
    );
  });

  it('blocks and reports file:// through img, iframe and fetch', async () => {
    const report = await pool.check(
      job(`<img src="file:///etc/passwd" alt="f"><iframe src="file:///etc/hostname"></iframe>
        <script>fetch('file:///etc/shadow').then(r => r.text()).then(t => console.log(t)).catch(() => 0)</script>`),
    );
    expect(blockedUrls(report)).toEqual(['file:///etc/hostname', 'file:///etc/passwd', 'file:///etc/shadow']);
    expect(report.blockedRequests.every((b) => b.reason.includes('local file'))).toBe(true);
  });

  it('blocks a redirect to file:// (the redirecting server is never reached) and a navigation to file://', async () => {
    const report = await pool.check(
      job(`<iframe src="${local}/redirect-to-file"></iframe><script>setTimeout(() => { location.href = 'file:///etc/passwd'; }, 50)</script>`),
    );
    expect(blockedUrls(report)).toEqual(['file:///etc/passwd', `${local}/redirect-to-file`]);
  });

  it('blocks and reports what workers ask for: fetch and importScripts', async () => {
    const report = await pool.check(
      job(`<script>
        const src = "fetch('${local}/from-worker').catch(() => 0); try { importScripts('${local}/imported.js') } catch (e) {}";
        new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
      </script>`),
    );
    expect(blockedUrls(report)).toEqual([`${local}/from-worker`, `${local}/imported.js`]);
  });

  it('blocks and reports EventSource, sendBeacon, keep-alive fetch and synchronous XHR', async () => {
    const report = await pool.check(
      job(`<script>
        new EventSource('${local}/events');
        navigator.sendBeacon('${local}/beacon', 'x');
        fetch('${local}/keepalive', { method: 'POST', body: 'x', keepalive: true }).catch(() => 0);
        try { const x = new XMLHttpRequest(); x.open('GET', '${local}/xhr', false); x.send(); } catch (e) {}
      </script>`),
    );
    expect(blockedUrls(report)).toEqual([`${local}/beacon`, `${local}/events`, `${local}/keepalive`, `${local}/xhr`]);
  });

  it('blocks and reports stylesheets, fonts, media, objects, srcset, SVG images and hyperlink pings', async () => {
    const report = await pool.check(
      job(`<style>@import url(${local}/imp.css); body { background: url(${local}/bg.png) }
        @font-face { font-family: f; src: url(${local}/f.woff) } p { font-family: f }</style><p>text</p>
        <video src="${local}/v.mp4"></video><object data="${local}/obj"></object><embed src="${local}/emb">
        <img srcset="${local}/srcset 1x" alt="s"><svg><image href="${local}/svgimg"/></svg>
        <link rel="prefetch" href="${local}/prefetch"><link rel="preload" as="image" href="${local}/preload">
        <a id="a" href="#here" ping="${local}/ping">x</a><script>document.getElementById('a').click()</script>`),
    );
    const expected = ['imp.css', 'bg.png', 'f.woff', 'v.mp4', 'obj', 'emb', 'srcset', 'svgimg', 'prefetch', 'preload', 'ping'];
    expect(blockedUrls(report)).toEqual(expected.map((p) => `${local}/${p}`).sort());
  });

  it("blocks public hosts, other jobs' origins and the host page's origin but serves data: URIs", async () => {
    const report = await pool.check(
      job(`<script src="https://example.com/tracker.js"></script><img src="https://j1.qc.invalid/x.png" alt="o">
        <img src="https://host.qc.invalid/secret.png" alt="h">
        <img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==" alt="d">`),
    );
    expect(blockedUrls(report)).toEqual(['https://example.com/tracker.js', 'https://host.qc.invalid/secret.png', 'https://j1.qc.invalid/x.png']);
    expect(report.brokenImages.map((i) => i.src).sort()).toEqual(['https://host.qc.invalid/secret.png', 'https://j1.qc.invalid/x.png']);
  });
});
