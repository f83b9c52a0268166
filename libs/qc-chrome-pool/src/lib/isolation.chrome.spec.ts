import type { QcIsolation, QcPool, QcReport } from '../index';
import { handOverIfTakingOver, job, launchTestPool } from '../../test-support/chrome-test-helpers';

// Reads back everything a job could leave behind. Shared by job A (positive control) and job B.
const PROBE = `async function probe() {
  const dbs = (await indexedDB.databases()).map((d) => d.name);
  return {
    cookie: document.cookie,
    localStorage: localStorage.getItem('leak'),
    sessionStorage: sessionStorage.getItem('leak'),
    indexedDB: dbs.includes('leakdb'),
    cacheStorage: await caches.has('leak'),
    serviceWorkers: (await navigator.serviceWorker.getRegistrations()).length,
    windowName: window.name,
    global: typeof window.__qcLeak === 'undefined' ? null : window.__qcLeak,
  };
}`;

const JOB_A = `<script>${PROBE}
document.cookie = 'leak=A; domain=qc.invalid; path=/';
document.cookie = 'hostleak=A; path=/';
localStorage.setItem('leak', 'A');
sessionStorage.setItem('leak', 'A');
window.name = 'leak-A';
window.__qcLeak = 'A';
setInterval(() => console.error('A-TIMER-FIRED'), 100);
addEventListener('pagehide', () => { document.cookie = 'pagehideleak=A; domain=qc.invalid; path=/'; });
// window.open() is refused at once (the in-page guard); a link with a target still opens a window
// the pool must close: this one keeps writing a parent-domain cookie while it lives.
const popupPage = '<script>setInterval(() => { document.cookie = "popupleak=A; domain=qc.invalid; path=/"; console.error("A-POPUP-ALIVE"); }, 50)<\\/script>';
const link = Object.assign(document.createElement('a'), { target: '_blank', href: URL.createObjectURL(new Blob([popupPage], { type: 'text/html' })) });
document.documentElement.append(link);
link.click();
new BroadcastChannel('qc-leak').onmessage = (e) => console.error('A-BC-RECEIVED ' + e.data);
new BroadcastChannel('qc-leak').postMessage('self-test');
(async () => {
  await new Promise((resolve) => {
    const open = indexedDB.open('leakdb');
    open.onupgradeneeded = () => open.result.createObjectStore('s');
    open.onsuccess = () => { const tx = open.result.transaction('s', 'readwrite'); tx.objectStore('s').put('A', 'k'); tx.oncomplete = resolve; };
  });
  await (await caches.open('leak')).put('/leak', new Response('A'));
  let sw = 'registered';
  try { await navigator.serviceWorker.register('/sw.js'); } catch (e) { sw = 'refused'; }
  console.error('FINDINGS ' + JSON.stringify({ ...(await probe()), swRegistration: sw }));
})();
</script>`;

const JOB_B = `<script>${PROBE}
new BroadcastChannel('qc-leak').postMessage('from-B');
(async () => { console.error('FINDINGS ' + JSON.stringify(await probe())); })();
</script>`;

const findings = (report: QcReport): Record<string, unknown> => {
  const line = report.consoleErrors.find((e) => e.text.startsWith('FINDINGS '));
  if (!line) throw new Error(`no FINDINGS line in ${JSON.stringify(report.consoleErrors)}`);
  return JSON.parse(line.text.slice('FINDINGS '.length));
};

describe.each<QcIsolation>(['origin', 'context'])('isolation between jobs (isolation=%s)', (isolation) => {
  let pool: QcPool;
  let reportA: QcReport;
  let reportB: QcReport;
  let a: Record<string, unknown>;
  let b: Record<string, unknown>;

  beforeAll(async () => {
    // One slot, so job B runs right after job A on the same warm page (or slot).
    // settleMs keeps each job open long enough for its async work; a surviving 100 ms interval
    // of job A would certainly fire during B's 1.5 s.
    pool = await launchTestPool({ isolation, pagesPerBrowser: 1, settleMs: 1_500 });
    reportA = await pool.check(job(JOB_A));
    // Under take-over-guards.chrome.spec.ts, job B runs in the pool that took the browser over.
    pool = await handOverIfTakingOver(pool, { isolation, pagesPerBrowser: 1, settleMs: 1_500 });
    reportB = await pool.check(job(JOB_B));
    a = findings(reportA);
    b = findings(reportB);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('job A really left its state behind (control for the probes)', () => {
    expect(a).toEqual({
      cookie: expect.stringContaining('leak=A'),
      localStorage: 'A',
      sessionStorage: 'A',
      indexedDB: true,
      cacheStorage: true,
      serviceWorkers: 0,
      swRegistration: 'refused', // no script can be served under the network rules, so none registers
      windowName: 'leak-A',
      global: 'A',
    });
    expect(reportA.consoleErrors.map((e) => e.text)).toContain('A-BC-RECEIVED self-test');
    expect(reportA.consoleErrors.map((e) => e.text)).toContain('A-TIMER-FIRED'); // live while A runs
    expect(reportA.blockedRequests).toEqual([{ url: expect.any(String), reason: expect.stringContaining('popup') }]);
  });

  it("job B sees none of job A's cookies, not even one set on the way out (pagehide) or by a popup", () =>
    expect(b['cookie']).toBe(''));
  it("job B sees none of job A's localStorage", () => expect(b['localStorage']).toBeNull());
  it("job B sees none of job A's sessionStorage", () => expect(b['sessionStorage']).toBeNull());
  it("job B sees none of job A's IndexedDB databases", () => expect(b['indexedDB']).toBe(false));
  it("job B sees none of job A's Cache Storage", () => expect(b['cacheStorage']).toBe(false));
  it('job B sees no service worker registration', () => expect(b['serviceWorkers']).toBe(0));
  it("job B sees none of job A's window.name", () => expect(b['windowName']).toBe(''));
  it("job B sees none of job A's globals", () => expect(b['global']).toBeNull());

  it("job B's report holds none of job A's console output (pending timer, BroadcastChannel listener)", () => {
    expect(reportB.consoleErrors.map((e) => e.text)).toEqual([expect.stringMatching(/^FINDINGS /)]);
    expect(reportB.pageErrors).toEqual([]);
  });
});
