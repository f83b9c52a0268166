import { check } from '@edu-agents/health-client';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpGet } from './http-get';

/** A real server on a port from the OS, answering with `handler`. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const READY = { status: 'ok', info: { shutdown: { phase: 'ready', pid: 4242, inFlight: 0 } }, error: {}, details: { shutdown: { phase: 'ready', pid: 4242, inFlight: 0 } } };
const viaHttpGet = { fetch: httpGet };

describe('httpGet, the CLI health checks transport', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('gives check() what fetch gives it: status, the body, the headers it sent', async () => {
    let seen: IncomingMessage['headers'] = {};
    const { server, base } = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(READY));
    });
    servers.push(server);
    const viaGet = await check(`${base}/health`, viaHttpGet);
    const viaFetch = await check(`${base}/health`);
    expect(viaGet).toMatchObject({ state: 'ready', httpStatus: 200, pid: 4242 });
    expect({ ...viaGet, latencyMs: 0 }).toEqual({ ...viaFetch, latencyMs: 0 });
    expect(seen).toMatchObject({ accept: 'application/json', connection: 'close' });
  });

  it('follows a redirect as fetch does, and refuses an endless one', async () => {
    const { server, base } = await serve((req, res) => {
      if (req.url === '/old') res.writeHead(301, { location: '/health' }).end();
      else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else res.writeHead(200).end(JSON.stringify(READY));
    });
    servers.push(server);
    await expect(check(`${base}/old`, viaHttpGet)).resolves.toMatchObject({ state: 'ready', pid: 4242 });
    await expect(check(`${base}/loop`, viaHttpGet)).resolves.toMatchObject({ state: 'unreachable', reason: 'ERR_TOO_MANY_REDIRECTS' });
  });

  it('reports a refused connection by its code, as fetch does', async () => {
    const { server, base } = await serve((_req, res) => res.end());
    await new Promise((resolve) => server.close(resolve)); // the port is free now: nothing listens
    const viaGet = await check(`${base}/health`, viaHttpGet);
    expect(viaGet).toMatchObject({ state: 'unreachable', reason: 'ECONNREFUSED' });
    expect(viaGet.reason).toBe((await check(`${base}/health`)).reason);
  });

  it('gives up at the timeout with the same reason as fetch', async () => {
    const { server, base } = await serve(() => undefined); // never answers
    servers.push(server);
    await expect(check(`${base}/health`, { ...viaHttpGet, timeoutMs: 200 })).resolves.toMatchObject({ state: 'unreachable', reason: 'no answer within 200 ms' });
    server.closeAllConnections();
  });

  it('refuses a URL that is not http or https, naming it', async () => {
    await expect(httpGet('ftp://127.0.0.1/health')).rejects.toThrow('not an http or https URL: ftp://127.0.0.1/health');
    await expect(httpGet('no url')).rejects.toThrow('not a URL: no url');
  });
});
