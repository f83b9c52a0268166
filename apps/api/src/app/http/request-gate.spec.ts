import { InFlightRegistry, ShutdownCoordinator } from '@edu-agents/shutdown-state';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestGate } from './request-gate';

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
  return { coordinator, server, get };
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

  it('serves, with Connection: close, what still arrives after a hot handoff: a 503 there would only fail a client', async () => {
    ctx = await setup(() => true);
    void ctx.coordinator.stop('handed over');
    expect(await ctx.get('/qc-stats')).toEqual({ status: 200, connection: 'close', body: 'served' });
  });
});
