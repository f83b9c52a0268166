import type { RequestListener } from 'node:http';
import { parseQcJobInput, parseQcScreenshotInput, QcInputError } from '@edu-agents/qc-chrome-pool';
import { warmRequestPath, WARM_UP_ROUTES } from './warm-up';

describe('warmRequestPath', () => {
  it('sends the requests through the listener over real loopback HTTP, the routes in turn, on at most the given connections', async () => {
    const seen: string[] = [];
    const sockets = new Set<unknown>();
    const listener: RequestListener = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      sockets.add(req.socket);
      res.end('ok');
    };
    const result = await warmRequestPath(listener, { requests: 30, connections: 3, routes: [{ method: 'GET', path: '/a' }, { method: 'GET', path: '/b' }, { method: 'GET', path: '/c' }], deadlineMs: 30_000 });
    expect(result).toMatchObject({ requests: 30, cutShort: false });
    expect(seen).toHaveLength(30);
    expect(seen.filter((s) => s === 'GET /a')).toHaveLength(10);
    expect(seen.filter((s) => s === 'GET /c')).toHaveLength(10);
    expect(sockets.size).toBeLessThanOrEqual(3);
  });

  it('sends a POST route with its JSON body and content type, and a GET with none', async () => {
    const seen: string[] = [];
    const listener: RequestListener = (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${req.headers['content-length'] ?? '-'} ${body || '-'}`);
        res.statusCode = req.method === 'POST' ? 400 : 200;
        res.end();
      });
    };
    const routes = [{ method: 'POST', path: '/qc/check', body: '{"a":1}' }, { method: 'GET', path: '/health' }] as const;
    expect(await warmRequestPath(listener, { requests: 4, connections: 1, routes, deadlineMs: 30_000 })).toMatchObject({ requests: 4, cutShort: false });
    expect(seen).toEqual(['POST /qc/check application/json 7 {"a":1}', 'GET /health - - -', 'POST /qc/check application/json 7 {"a":1}', 'GET /health - - -']);
  });

  it('stops sending at its deadline and says it was cut short, counting only what was answered', async () => {
    let answered = 0;
    const slow: RequestListener = (_req, res) => {
      setTimeout(() => {
        answered += 1;
        res.end('late');
      }, 50);
    };
    const result = await warmRequestPath(slow, { requests: 10_000, connections: 1, routes: [{ method: 'GET', path: '/' }], deadlineMs: 200 });
    expect(result.cutShort).toBe(true);
    expect(result.requests).toBe(answered);
    expect(result.requests).toBeLessThan(10_000);
  });

  it('cuts a request that is still unanswered at the deadline, and resolves', async () => {
    const never: RequestListener = () => undefined; // never answers
    const result = await warmRequestPath(never, { requests: 5, connections: 2, routes: [{ method: 'GET', path: '/' }], deadlineMs: 200 });
    expect(result).toMatchObject({ requests: 0, cutShort: true });
  });

  it('sends nothing when asked for 0 requests', async () => {
    const listener: RequestListener = () => {
      throw new Error('no request was asked for');
    };
    expect(await warmRequestPath(listener, { requests: 0, connections: 4, routes: [{ method: 'GET', path: '/' }], deadlineMs: 1_000 })).toEqual({ requests: 0, ms: 0, cutShort: false });
  });
});

describe('WARM_UP_ROUTES', () => {
  it('posts to the QC routes only bodies that their validation refuses, so a warm-up never reaches Chrome', () => {
    const limits = { maxTimeoutMs: 30_000, defaultTimeoutMs: 30_000 };
    const parsers: Record<string, (body: unknown) => unknown> = {
      '/qc/check': (body) => parseQcJobInput(body, limits),
      '/qc/screenshot': (body) => parseQcScreenshotInput(body, limits),
    };
    const posts = WARM_UP_ROUTES.filter((route) => route.method === 'POST');
    expect(posts.map((route) => route.path).sort()).toEqual(Object.keys(parsers).sort());
    for (const route of posts) expect(() => parsers[route.path](JSON.parse(route.body ?? 'null'))).toThrow(QcInputError);
  });
});
