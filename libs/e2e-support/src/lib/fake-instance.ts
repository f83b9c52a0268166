import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How a fake API instance answers: serving; draining like the real API; or
 * cutting the connection with the request on it (a process that dies mid-request).
 */
export type InstanceMode = 'serving' | 'draining' | 'cutting';

/**
 * A tiny HTTP server standing in for one API instance behind nginx. It
 * answers like the API does in the two phases that matter to the balancer:
 * 200 with its name while serving; 503 + `Connection: close` + `Retry-After`
 * while draining. It counts what reached it.
 */
export interface FakeInstance {
  readonly name: string;
  readonly port: number;
  mode: InstanceMode;
  /** Requests that reached this instance, e.g. `POST /qc/check`. */
  readonly requests: string[];
  /** TCP connections nginx opened to this instance. */
  connections: number;
  /** Answers this long after the request arrived (default 0): requests overlap, as under load. */
  delayMs: number;
  close(): Promise<void>;
}

/** Starts a fake instance on `port` (0 = a port from the OS) on 127.0.0.1. */
export async function startFakeInstance(name: string, port = 0): Promise<FakeInstance> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      instance.requests.push(`${req.method} ${req.url}`);
      if (instance.mode === 'cutting') {
        req.socket.destroy();
        return;
      }
      if (instance.mode === 'draining') {
        res.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '1' });
        res.end(JSON.stringify({ statusCode: 503, message: 'draining', instance: name }));
        return;
      }
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ instance: name, method: req.method, url: req.url, body }));
      };
      if (instance.delayMs > 0) setTimeout(answer, instance.delayMs);
      else answer();
    });
  });
  server.on('connection', (socket: Socket) => {
    instance.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`fake instance ${name} has no TCP port`);

  const instance: FakeInstance = {
    name,
    port: address.port,
    mode: 'serving',
    requests: [],
    connections: 0,
    delayMs: 0,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return instance;
}
