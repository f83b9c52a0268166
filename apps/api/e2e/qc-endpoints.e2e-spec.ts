import { http, killLeftoverApis, postJson, slowPost, startApi, waitFor, type ApiProcess } from '@edu-agents/e2e-support';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { chromeProcessesOf, profileDirsOf } from './support/chrome-procs';

const LESSON = { html: '<main><h1>Photosynthesis</h1><p>Plants make sugar from light.</p></main>' };
const HANGS = { html: '<p>loops</p><script>for(;;){}</script>', timeoutMs: 1500 };

interface Stats {
  jobs: Record<string, number>;
  slots: { busy: number };
  queueLength: number;
}
const stats = async (api: ApiProcess) => (await http(`${api.url}/qc-stats`)).json<Stats>();


describe('QC endpoints of the built API, with the real Chromium', () => {
  let api: ApiProcess;
  beforeAll(async () => {
    api = await startApi({ QC_ENABLED: 'true', QC_BROWSERS: '1', QC_PAGES_PER_BROWSER: '1', QC_QUEUE_MAX: '1', BODY_LIMIT_BYTES: '4096', QC_JOB_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    api.signal('SIGTERM');
    expect((await api.exited).code).toBe(0);
  });

  it('rejects bad input with a clear 4xx before it reaches Chrome', async () => {
    const before = await stats(api);
    const malformed = await http(`${api.url}/qc/check`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"html":' });
    expect(malformed.status).toBe(400);
    expect(malformed.json()['message']).toMatch(/Malformed JSON/);

    const missing = await postJson(`${api.url}/qc/check`, { viewport: { width: 800, height: 600 } });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'qc_bad_input', field: 'html' });

    const wrongType = await postJson(`${api.url}/qc/check`, { html: '<p>x</p>', viewport: { width: 'wide', height: 600 } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json()).toMatchObject({ field: 'viewport.width' });

    const tooLarge = await postJson(`${api.url}/qc/check`, { html: 'x'.repeat(10_000) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json()['message']).toMatch(/BODY_LIMIT_BYTES/);

    const notJson = await http(`${api.url}/qc/check`, { method: 'POST', headers: { 'Content-Type': 'text/html' }, body: '<p>x</p>' });
    expect(notJson.status).toBe(415);

    expect(await stats(api)).toEqual(expect.objectContaining({ jobs: before.jobs }));
  });

  it('reports a clean lesson as ok and returns a PNG screenshot', async () => {
    const report = await postJson(`${api.url}/qc/check`, LESSON);
    expect(report.status).toBe(200);
    expect(report.json()).toMatchObject({ ok: true, consoleErrors: [], blockedRequests: [], brokenImages: [] });
    const png = await postJson(`${api.url}/qc/screenshot`, { ...LESSON, viewport: { width: 640, height: 480 } });
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.body.subarray(1, 4).toString()).toBe('PNG');
  });

  it('answers 503 with Retry-After at once when the queue is full, and ends a hanging job at its timeout', async () => {
    await waitFor('the pool to be idle', async () => (await stats(api)).slots.busy === 0);
    const hanging = postJson(`${api.url}/qc/check`, HANGS);
    await waitFor('the hanging job to hold the only slot', async () => {
      const s = await stats(api);
      return s.slots.busy === 1 && s.queueLength === 0;
    });
    const queued = postJson(`${api.url}/qc/check`, { html: '<p>waits its turn</p>' });
    await waitFor('the second job to wait in the queue', async () => (await stats(api)).queueLength === 1);

    const startedAt = Date.now();
    const refused = await postJson(`${api.url}/qc/check`, { html: '<p>one too many</p>' });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toMatchObject({ code: 'qc_queue_full' });

    const timedOut = await hanging;
    expect(timedOut.status).toBe(422);
    expect(timedOut.json()).toMatchObject({ code: 'qc_job_timeout' });
    const second = await queued;
    expect({ status: second.status, body: second.json() }).toMatchObject({ status: 200, body: { ok: true } });
    expect((await stats(api)).jobs).toMatchObject({ timedOut: 1, rejected: 1 });
  });

  it('refuses `{}` on both QC routes before any render and moves no QC statistic (what a successor warms its POST path with)', async () => {
    const before = (await http(`${api.url}/qc-stats`)).json();
    for (const path of ['/qc/check', '/qc/screenshot']) {
      const answer = await http(`${api.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect([path, answer.status, answer.json()['code']]).toEqual([path, 400, 'qc_bad_input']);
    }
    const after = (await http(`${api.url}/qc-stats`)).json();
    expect([after['jobs'], after['cache']]).toEqual([before['jobs'], before['cache']]);
  });

  it('serves pool statistics as Prometheus metrics', async () => {
    const metrics = await http(`${api.url}/metrics`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^edu_agents_qc_jobs_done_total \d+$/m);
    expect(metrics.text).toMatch(/^edu_agents_shutdown_phase\{phase="ready"\} 1$/m);
    expect(metrics.text).toMatch(/^edu_agents_process_resident_memory_bytes \d+/m);
  });
});

/** A POST /qc/check whose client goes away (socket destroyed) when `leave()` is called. */
function leavingCheck(url: string, body: unknown): { leave: () => void; gone: Promise<void> } {
  const payload = JSON.stringify(body);
  const req = request(`${url}/qc/check`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } });
  const gone = new Promise<void>((resolve) => req.once('close', () => resolve()));
  req.on('error', () => undefined); // the test destroys this socket on purpose
  req.end(payload);
  return { leave: () => void req.destroy(), gone };
}

interface QcStats {
  jobs: { done: number; cancelled: number; failed: number };
  slots: { busy: number };
  cache: { coalesced: number };
}

describe('QC single flight, annotated screenshots and guarded content through the built API', () => {
  let api: ApiProcess;
  const qcStats = async () => (await http(`${api.url}/qc-stats`)).json<QcStats>();
  beforeAll(async () => {
    api = await startApi({ QC_ENABLED: 'true', QC_BROWSERS: '1', QC_PAGES_PER_BROWSER: '1', QC_QUEUE_MAX: '1', QC_JOB_TIMEOUT_MS: '30000' });
  });
  afterAll(async () => {
    api.signal('SIGTERM');
    expect((await api.exited).code).toBe(0);
  });

  it('renders 20 identical concurrent checks once (one queue place) and counts the coalesced ones in /qc-stats and /metrics', async () => {
    const before = await qcStats();
    const lesson = { html: '<h1>Many readers</h1><img src="missing.png" alt="m">' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => postJson(`${api.url}/qc/check`, lesson)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    for (const a of answers) expect(a.json()).toEqual(answers[0].json());
    const after = await qcStats();
    expect(after.jobs.done - before.jobs.done).toBe(1);
    expect(after.cache.coalesced - before.cache.coalesced).toBe(19);
    const metrics = await http(`${api.url}/metrics`);
    expect(metrics.text).toMatch(new RegExp(`^edu_agents_qc_cache_coalesced_total ${after.cache.coalesced}$`, 'm'));
  });

  it('keeps rendering for a client that stays when another one with the same content disconnects', async () => {
    const lesson = { html: '<p>one leaves</p><script>const end = Date.now() + 1500; while (Date.now() < end) {}</script>' };
    const before = await qcStats();
    const leaving = leavingCheck(api.url, lesson);
    const staying = postJson(`${api.url}/qc/check`, lesson);
    await waitFor('the shared render to start', async () => (await qcStats()).slots.busy === 1);
    leaving.leave();
    await leaving.gone;
    const answer = await staying;
    expect({ status: answer.status, ok: answer.json()['ok'] }).toEqual({ status: 200, ok: true });
    const after = await qcStats();
    expect(after.jobs.done - before.jobs.done).toBe(1);
    expect(after.jobs.cancelled).toBe(before.jobs.cancelled);
  });

  it('stops the render when its only client disconnects, and the slot serves the next job', async () => {
    const before = await qcStats();
    const leaving = leavingCheck(api.url, { html: '<p>spins</p><script>for (;;) {}</script>' });
    await waitFor('the render to start', async () => (await qcStats()).slots.busy === 1);
    leaving.leave();
    await waitFor('the render to be cancelled', async () => (await qcStats()).jobs.cancelled === before.jobs.cancelled + 1);
    const next = await postJson(`${api.url}/qc/check`, { html: '<p>next</p>' });
    expect(next.status).toBe(200);
  });

  it('returns an annotated PNG (screenshot plus legend) and refuses an annotate that is not a boolean', async () => {
    const lesson = { html: '<img src="missing.png" alt="chart" style="display:block;width:80px;height:60px">', viewport: { width: 640, height: 480 } };
    const plain = await postJson(`${api.url}/qc/screenshot`, lesson);
    const marked = await postJson(`${api.url}/qc/screenshot`, { ...lesson, annotate: true });
    expect([plain.status, marked.status]).toEqual([200, 200]);
    expect(marked.headers['content-type']).toBe('image/png');
    expect(marked.body.readUInt32BE(16)).toBe(640);
    expect(marked.body.readUInt32BE(20)).toBeGreaterThan(plain.body.readUInt32BE(20)); // the legend
    const bad = await postJson(`${api.url}/qc/screenshot`, { ...lesson, annotate: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'qc_bad_input', field: 'annotate' });
  });

  it('answers 200 with the attempt listed for content that navigates away or opens a WebRTC way out, every time', async () => {
    // Live targets on ports from the OS: what the content aims at must see nothing.
    const tcp = createServer();
    const udp = createSocket('udp4');
    let tcpConnections = 0;
    let udpPackets = 0;
    tcp.on('connection', (socket) => {
      tcpConnections += 1;
      socket.destroy();
    });
    udp.on('message', () => (udpPackets += 1));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const page = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/x`;
    const stun = `stun:127.0.0.1:${udp.address().port}`;
    try {
      for (let run = 0; run < 3; run += 1) {
        const answer = await postJson(`${api.url}/qc/check`, {
          html: `<meta http-equiv="refresh" content="0;url=${page}"><p>run ${run}</p>
            <script>new RTCPeerConnection({ iceServers: [{ urls: '${stun}' }] })</script>`,
        });
        expect(answer.status).toBe(200);
        expect(answer.json()['blockedRequests']).toEqual([
          { url: page, reason: 'navigation away from the job document is not allowed' },
          { url: stun, reason: expect.stringContaining('WebRTC') },
        ]);
      }
      expect({ tcpConnections, udpPackets }).toEqual({ tcpConnections: 0, udpPackets: 0 });
    } finally {
      tcp.close();
      udp.close();
    }
  });
});

describe('the QC pool across the API process lifecycle', () => {
  afterEach(killLeftoverApis);

  it('delivers a QC job in flight at SIGTERM, exits 0, and leaves no Chrome process or profile', async () => {
    const api = await startApi({ QC_ENABLED: 'true', QC_BROWSERS: '2' });
    expect(chromeProcessesOf(api.pid).length).toBeGreaterThan(0);
    expect(profileDirsOf(api.pid)).toHaveLength(2);
    const job = slowPost(`${api.url}/qc/check`, LESSON);
    await waitFor('the job to be in flight', async () => (await http(`${api.url}/health`)).json<{ details: { shutdown: { inFlight: number } } }>().details.shutdown.inFlight === 1);
    api.signal('SIGTERM');
    await waitFor('the drain to begin', async () => (await http(`${api.url}/health`)).status === 503);
    job.finish();
    const answer = await job.answer;
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ ok: true });
    expect((await api.exited).code).toBe(0);
    expect(chromeProcessesOf(api.pid)).toEqual([]);
    expect(profileDirsOf(api.pid)).toEqual([]);
  });

  it('leaves no Chrome process behind when the API is killed with SIGKILL', async () => {
    const api = await startApi({ QC_ENABLED: 'true', QC_BROWSERS: '2' });
    expect(chromeProcessesOf(api.pid).length).toBeGreaterThan(0);
    api.signal('SIGKILL');
    const killedAt = (await api.exited).at;
    await waitFor('every Chrome process of the killed API to exit', () => chromeProcessesOf(api.pid).length === 0, 5_000);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
  });
});
