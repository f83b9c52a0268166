import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { check } from './check';

describe('check against a real HTTP server', () => {
  let server: Server;
  let base: string;
  let answer: (path: string) => { status: number; text: string } | 'hang';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const a = answer(req.url ?? '/');
      if (a === 'hang') return; // never answers: the client's timeout decides
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.text);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('returns ready with pid, in-flight count, status and latency for a ready instance', async () => {
    answer = () => ({ status: 200, text: JSON.stringify({ status: 'ok', details: { shutdown: { phase: 'ready', pid: 9, inFlight: 0 } } }) });
    const r = await check(`${base}/health`);
    expect(r).toMatchObject({ state: 'ready', httpStatus: 200, pid: 9, inFlight: 0 });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('carries details.handoff when the body has it, and leaves it out when it does not', async () => {
    const handoff = { status: 'up', enabled: true, supported: true, state: 'starting', attempts: 1, successorPid: 12 };
    answer = () => ({ status: 200, text: JSON.stringify({ status: 'ok', details: { shutdown: { phase: 'ready', pid: 9, inFlight: 0 }, handoff } }) });
    await expect(check(`${base}/health`)).resolves.toMatchObject({ state: 'ready', pid: 9, handoff: { supported: true, state: 'starting', attempts: 1, successorPid: 12 } });
    answer = () => ({ status: 200, text: JSON.stringify({ status: 'ok', details: { shutdown: { phase: 'ready', pid: 9, inFlight: 0 } } }) });
    expect(await check(`${base}/health`)).not.toHaveProperty('handoff');
  });

  it('returns draining for a 503 whose phase is draining', async () => {
    answer = () => ({ status: 503, text: JSON.stringify({ status: 'error', details: { shutdown: { phase: 'draining', pid: 9, inFlight: 3 } } }) });
    await expect(check(`${base}/health`)).resolves.toMatchObject({ state: 'draining', httpStatus: 503, inFlight: 3 });
  });

  it('returns down for a body that is not JSON', async () => {
    answer = () => ({ status: 200, text: '<html>' });
    await expect(check(`${base}/health`)).resolves.toMatchObject({ state: 'down', httpStatus: 200, body: '<html>' });
  });

  it('returns unreachable when the answer does not come within the timeout', async () => {
    answer = () => 'hang';
    const r = await check(`${base}/health`, { timeoutMs: 100 });
    expect(r.state).toBe('unreachable');
    expect(r.reason).toContain('100 ms');
  });

  it('returns unreachable with the error code when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await check(`http://127.0.0.1:${port}/health`);
    expect(r).toMatchObject({ state: 'unreachable', httpStatus: undefined, reason: 'ECONNREFUSED' });
  });
});
