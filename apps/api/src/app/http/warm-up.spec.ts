import type { RequestListener } from 'node:http';
import { warmRequestPath } from './warm-up';

describe('warmRequestPath', () => {
  it('sends the requests through the listener over real loopback HTTP, the paths in turn, on at most the given connections', async () => {
    const seen: string[] = [];
    const sockets = new Set<unknown>();
    const listener: RequestListener = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      sockets.add(req.socket);
      res.end('ok');
    };
    const result = await warmRequestPath(listener, { requests: 30, connections: 3, paths: ['/a', '/b', '/c'], deadlineMs: 30_000 });
    expect(result).toMatchObject({ requests: 30, cutShort: false });
    expect(seen).toHaveLength(30);
    expect(seen.filter((s) => s === 'GET /a')).toHaveLength(10);
    expect(seen.filter((s) => s === 'GET /c')).toHaveLength(10);
    expect(sockets.size).toBeLessThanOrEqual(3);
  });

  it('stops sending at its deadline and says it was cut short, counting only what was answered', async () => {
    let answered = 0;
    const slow: RequestListener = (_req, res) => {
      setTimeout(() => {
        answered += 1;
        res.end('late');
      }, 50);
    };
    const result = await warmRequestPath(slow, { requests: 10_000, connections: 1, paths: ['/'], deadlineMs: 200 });
    expect(result.cutShort).toBe(true);
    expect(result.requests).toBe(answered);
    expect(result.requests).toBeLessThan(10_000);
  });

  it('cuts a request that is still unanswered at the deadline, and resolves', async () => {
    const never: RequestListener = () => undefined; // never answers
    const result = await warmRequestPath(never, { requests: 5, connections: 2, paths: ['/'], deadlineMs: 200 });
    expect(result).toMatchObject({ requests: 0, cutShort: true });
  });

  it('sends nothing when asked for 0 requests', async () => {
    const listener: RequestListener = () => {
      throw new Error('no request was asked for');
    };
    expect(await warmRequestPath(listener, { requests: 0, connections: 4, paths: ['/'], deadlineMs: 1_000 })).toEqual({ requests: 0, ms: 0, cutShort: false });
  });
});
