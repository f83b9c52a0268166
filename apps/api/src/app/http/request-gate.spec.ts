import { InFlightRegistry, ShutdownCoordinator } from '@edu-agents/shutdown-state';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isQcWork, RequestGate } from './request-gate';
import { successorProxy } from './successor-proxy';

/** A port nothing listens on: one the OS gave, then closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function waitUntil(condition: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A stand-in successor that answers with the method and URL it got, for `use`'s duration. */
async function withSuccessor(use: (port: number) => Promise<void>): Promise<void> {
  const successor = createServer((req, res) => res.end(`successor ${req.method} ${req.url}`));
  await new Promise<void>((resolve) => successor.listen(0, '127.0.0.1', resolve));
  try {
    await use((successor.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => successor.close(resolve));
  }
}

/** A real HTTP server behind the gate; the app answers 200 "served". */
async function setup(handedOver: () => boolean) {
  const registry = new InFlightRegistry();
  const coordinator = new ShutdownCoordinator(registry, { timeoutMs: 60_000, delayMs: 0, hookTimeoutMs: 1_000 }, {
    now: Date.now, setTimer: (fn, ms) => setTimeout(fn, ms).unref(), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout), exit: () => undefined, log: () => undefined,
  });
  coordinator.markStarted();
  const gate = new RequestGate(registry, coordinator, handedOver);
  const server: Server = createServer(gate.wrap((_req, res) => res.end('served')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (path: string) =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
      }).on('error', reject).end();
    });
  return { coordinator, server, get, gate, port };
}

describe('RequestGate', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  afterEach(() => new Promise((resolve) => ctx.server.close(resolve)));

  it('refuses new work with 503 once the shutdown began, health excepted', async () => {
    ctx = await setup(() => false);
    void ctx.coordinator.stop('test');
    expect(await ctx.get('/qc-stats')).toMatchObject({ status: 503, connection: 'close' });
    expect((await ctx.get('/health')).body).toBe('served');
  });

  it('passes every request but health to the successor once told to, counting it in flight until answered', async () => {
    ctx = await setup(() => true);
    await withSuccessor(async (port) => {
      ctx.gate.forwardTo(successorProxy({ host: '127.0.0.1', port }, (error) => { throw error; }));
      void ctx.coordinator.stop('handed over');
      expect(await ctx.get('/qc-stats?x=1')).toEqual({ status: 200, connection: 'close', body: 'successor GET /qc-stats?x=1' });
      expect((await ctx.get('/health')).body).toBe('served');
      await expect(ctx.gate.whenNoLocalQc()).resolves.toBeUndefined();
    });
  });

  it('after a hot handoff passes on only QC work (isQcWork) and answers the rest itself; only QC served here counts as local QC', async () => {
    ctx = await setup(() => true);
    await withSuccessor(async (port) => {
      ctx.gate.forwardTo(successorProxy({ host: '127.0.0.1', port }, (error) => { throw error; }), isQcWork);
      void ctx.coordinator.stop('handed over');
      expect(await ctx.get('/qc/check')).toMatchObject({ status: 200, body: 'successor GET /qc/check' });
      expect(await ctx.get('/qc/screenshot?w=1')).toMatchObject({ status: 200, body: 'successor GET /qc/screenshot?w=1' });
      expect(await ctx.get('/qc-stats')).toEqual({ status: 200, connection: 'close', body: 'served' });
      expect((await ctx.get('/metrics')).body).toBe('served');
      await expect(ctx.gate.whenNoLocalQc()).resolves.toBeUndefined();
    });
  });

  it('answers 502 with Retry-After when the successor cannot be reached, and never hangs', async () => {
    ctx = await setup(() => true);
    const errors: string[] = [];
    ctx.gate.forwardTo(successorProxy({ host: '127.0.0.1', port: await closedPort() }, (error) => errors.push(error.message)));
    const answer = await ctx.get('/qc/check');
    expect(answer.status).toBe(502);
    expect(answer.body).toContain('the successor that took over this socket did not answer');
    expect(errors.join()).toContain('ECONNREFUSED');
  });

  it('resolves whenNoLocalQc only after the QC requests served here finished', async () => {
    let finish: (() => void) | undefined;
    ctx = await setup(() => false);
    ctx.server.removeAllListeners('request');
    ctx.server.on('request', ctx.gate.wrap((_req, res) => (finish = () => res.end('rendered'))));
    const answer = ctx.get('/qc/check');
    await waitUntil(() => finish !== undefined);
    let idle = false;
    void ctx.gate.whenNoLocalQc().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    finish?.();
    expect((await answer).body).toBe('rendered');
    await waitUntil(() => idle);
  });

  it('serves, with Connection: close, what still arrives after a hot handoff: a 503 there would only fail a client', async () => {
    ctx = await setup(() => true);
    void ctx.coordinator.stop('handed over');
    expect(await ctx.get('/qc-stats')).toEqual({ status: 200, connection: 'close', body: 'served' });
  });
});
