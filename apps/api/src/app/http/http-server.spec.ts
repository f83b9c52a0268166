import { Agent, request, type Agent as AgentType } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpServer, stopAccepting } from './http-server';

const get = (port: number, agent: AgentType) =>
  new Promise<{ status: number; connection: string | undefined; socketReused: boolean }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, socketReused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });

describe('stopAccepting', () => {
  it('stops accepting but keeps an idle keep-alive connection, whose next request is still answered', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'), { keepAliveTimeoutMs: 60_000, headersTimeoutMs: 61_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(port, agent)).status).toBe(200);
      const closed = stopAccepting(server);
      // The same idle connection carries the next request: it was not cut.
      expect(await get(port, agent)).toMatchObject({ status: 200, socketReused: true });
      // A new connection is refused: nobody accepts here any more.
      await expect(get(port, new Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      agent.destroy();
      await closed;
    } finally {
      agent.destroy();
      server.closeAllConnections();
    }
  });
});
