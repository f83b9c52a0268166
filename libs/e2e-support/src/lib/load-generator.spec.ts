import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { startLoad } from './load-generator';
import { qcMix } from './load-mix';
import { formatSummary, outcomeGaps, summarize } from './load-report';
import { freePort } from './net';
import { waitFor } from './wait-for';

describe('load generator against a fake server on 127.0.0.1', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
    server = createServer(handler);
    server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((resolve) => (server as Server).listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    if (server) await new Promise((resolve) => (server as Server).close(resolve));
    server = undefined;
  });

  it('sends on schedule over kept-alive sockets and gives every request exactly one 200 outcome', async () => {
    const port = await serve((req, res) => req.resume().on('end', () => res.end('ok')));
    const run = await startLoad({ port, ratePerSec: 200, maxDurationMs: 1_000, baseClients: 8, maxClients: 400, request: (i) => ({ label: i % 2 ? 'GET' : 'POST', method: i % 2 ? 'GET' : 'POST', path: `/x/${i}`, body: i % 2 ? undefined : `{"i":${i}}` }) }).done;
    const s = summarize(run);
    expect(outcomeGaps(run)).toEqual({ missing: [], repeated: [] });
    expect({ scheduled: run.scheduled, outcomes: s.outcomes, failed: s.all.failed, byStatus: s.all.byStatus, duplicates: run.duplicateOutcomes }).toEqual({
      scheduled: 200, outcomes: 200, failed: 0, byStatus: { '200': 200 }, duplicates: 0,
    });
    // Keep-alive: far fewer connections than requests; each client one socket at a time.
    expect(run.connectionsOpened).toBeLessThanOrEqual(run.clientsCreated);
    // Open loop: the last request was scheduled at 995 ms, not later.
    expect(Math.max(...run.records.map((r) => r.scheduledMs))).toBe(995);
    // Never sent before its time (how late depends on the machine: printed by the proof, not asserted).
    expect(run.records.filter((r) => r.startMs < r.scheduledMs)).toEqual([]);
  });

  it("records the client port of each request's connection, the one the server saw as the remote port", async () => {
    const remotePorts = new Set<number>();
    const port = await serve((req, res) => (remotePorts.add(req.socket.remotePort as number), req.resume().on('end', () => res.end('ok'))));
    const run = await startLoad({ port, ratePerSec: 100, maxDurationMs: 200, baseClients: 3, request: (i) => ({ label: 'GET', method: 'GET', path: `/${i}` }) }).done;
    expect(new Set(run.records.map((r) => r.localPort))).toEqual(remotePorts);
  });

  it('sends a mix given as data: every third request a QC POST with its own body, the rest GETs', async () => {
    const seen: string[] = [];
    const port = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString())).on('end', () => (seen.push(`${req.method} ${req.url} ${body}`), res.end('ok')));
    });
    const run = await startLoad({ port, ratePerSec: 100, maxDurationMs: 60, baseClients: 2, request: qcMix(3) }).done;
    expect(summarize(run).byLabel).toMatchObject({ 'POST /qc/check': { requests: 2, failed: 0 }, 'GET /qc-stats': { requests: 4, failed: 0 } });
    expect(seen.filter((s) => s.startsWith('POST')).sort()).toEqual([0, 3].map((i) => `POST /qc/check {"html":"<main><h1>Lesson ${i}</h1><p>Fractions, part ${i}.</p></main>"}`));
  });

  it('keeps sending on schedule while answers are slow, using overflow clients, and reports requests that find every client busy', async () => {
    const held: ServerResponse[] = [];
    const port = await serve((req, res) => req.resume().on('end', () => held.push(res)));
    const load = startLoad({ port, ratePerSec: 100, maxDurationMs: 300, baseClients: 2, maxClients: 5, request: () => ({ label: 'GET', method: 'GET', path: '/slow' }) });
    // 30 are due in 300 ms; only 5 clients exist, none answered yet.
    await waitFor('five held requests and the end of the schedule', () => held.length >= 5 && load.elapsed() >= 300);
    expect(held).toHaveLength(5);
    for (const res of held) res.end('late');
    const run = await load.done;
    const s = summarize(run);
    expect(outcomeGaps(run)).toEqual({ missing: [], repeated: [] });
    expect({ outcomes: s.outcomes, ok: s.all.byStatus['200'], noClient: s.all.byError['NO_CLIENT'], clients: run.clientsCreated, exhausted: run.exhaustedPicks }).toEqual({
      outcomes: 30, ok: 5, noClient: 25, clients: 5, exhausted: 25,
    });
    expect(run.overflowPicks).toBe(28); // every request after the first two found its base client busy
    expect(s.all.failed).toBe(25);
  });

  it('records a cut connection and a refused connect once each, never retrying them', async () => {
    let arrived = 0;
    const port = await serve((req) => {
      arrived += 1;
      req.socket.destroy();
    });
    const cut = await startLoad({ port, ratePerSec: 50, maxDurationMs: 200, baseClients: 2, request: () => ({ label: 'POST', method: 'POST', path: '/cut', body: '{}' }) }).done;
    expect(arrived).toBe(10); // one arrival per scheduled request: no silent re-send
    expect(summarize(cut).all.byError).toEqual({ ECONNRESET: 10 });

    const closedPort = await freePort();
    const refused = await startLoad({ port: closedPort, ratePerSec: 50, maxDurationMs: 200, baseClients: 2, request: () => ({ label: 'GET', method: 'GET', path: '/' }) }).done;
    const s = summarize(refused, [{ name: 'first-half', fromMs: 0, toMs: 100 }]);
    expect({ errors: s.all.byError, window: s.windows[0].requests }).toEqual({ errors: { ECONNREFUSED: 10 }, window: 5 });
    expect(formatSummary('refused', s)).toContain('errors {"ECONNREFUSED":10}');
  });

  it('stop() ends the schedule early and the run still accounts for every request it scheduled', async () => {
    const port = await serve((req, res) => req.resume().on('end', () => res.end('ok')));
    const load = startLoad({ port, ratePerSec: 200, maxDurationMs: 60_000, baseClients: 4, maxClients: 400, request: () => ({ label: 'GET', method: 'GET', path: '/' }) });
    await new Promise((resolve) => setTimeout(resolve, 250));
    load.stop();
    const run = await load.done;
    expect(run.scheduled).toBeGreaterThan(20);
    expect(run.scheduled).toBeLessThan(200);
    expect(outcomeGaps(run)).toEqual({ missing: [], repeated: [] });
    expect(summarize(run).all).toMatchObject({ failed: 0, byError: {} });
  });
});
