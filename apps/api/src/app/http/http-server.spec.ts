import express from 'express';
import { Agent, IncomingMessage, request, ServerResponse, type Agent as AgentType, type RequestListener } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { createHttpServer, messageClassesFor, stopAccepting } from './http-server';

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

describe('messageClassesFor', () => {
  /** One GET through `createHttpServer` to an Express app, noting each request's and response's prototype as the server made them. */
  async function serve(withClasses: boolean) {
    const app = express();
    app.get('/hello', (req, res) => {
      res.json({ host: req.get('host'), protocol: req.protocol });
    });
    const born: { request: boolean; response: boolean }[] = [];
    const listener: RequestListener = (req, res) => {
      born.push({ request: Object.getPrototypeOf(req) === app.request, response: Object.getPrototypeOf(res) === app.response });
      app(req, res);
    };
    const server = createHttpServer(listener, { keepAliveTimeoutMs: 60_000, headersTimeoutMs: 61_000, ...(withClasses ? { messages: messageClassesFor(app) } : {}) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/hello', agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      return { born, answer };
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it("builds requests and responses with the Express app's prototypes, and Express serves them as its own", async () => {
    const { born, answer } = await serve(true);
    expect(born).toEqual([{ request: true, response: true }]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ host: expect.stringMatching(/^127\.0\.0\.1:\d+$/), protocol: 'http' });
  });

  it('without them, node:http builds plain ones, whose prototypes Express changes as it takes them', async () => {
    const { born, answer } = await serve(false);
    expect(born).toEqual([{ request: false, response: false }]);
    expect(answer.status).toBe(200);
  });

  it('keeps them instances of node:http\'s classes', () => {
    const app = express();
    const { IncomingMessage: AppRequest, ServerResponse: AppResponse } = messageClassesFor(app);
    const req = new AppRequest(new Socket());
    const res = new AppResponse(req);
    expect(req).toBeInstanceOf(IncomingMessage);
    expect(res).toBeInstanceOf(ServerResponse);
    expect(Object.getPrototypeOf(req)).toBe(app.request);
    expect(Object.getPrototypeOf(res)).toBe(app.response);
    expect(res.req).toBe(req);
  });

  it('builds them through Reflect.construct where the classes it extends are `class`es', () => {
    class ClassRequest extends IncomingMessage {}
    class ClassResponse extends ServerResponse<IncomingMessage> {}
    const prototypes = { request: Object.create(ClassRequest.prototype), response: Object.create(ClassResponse.prototype) };
    const { IncomingMessage: AppRequest, ServerResponse: AppResponse } = messageClassesFor(prototypes, { IncomingMessage: ClassRequest, ServerResponse: ClassResponse as typeof ServerResponse });
    const req = new AppRequest(new Socket());
    const res = new AppResponse(req);
    expect(Object.getPrototypeOf(req)).toBe(prototypes.request);
    expect(Object.getPrototypeOf(res)).toBe(prototypes.response);
    expect(res.req).toBe(req);
  });
});
