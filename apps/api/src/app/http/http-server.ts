import { createServer, type RequestListener, type Server } from 'node:http';
import { Server as NetServer } from 'node:net';

export interface HttpServerOptions {
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
}

/**
 * A plain node:http server with the keep-alive timeouts set explicitly: they
 * must stay above the load balancer's upstream keep-alive, or the balancer
 * reuses a socket the server is closing and the request fails.
 */
export function createHttpServer(listener: RequestListener, options: HttpServerOptions): Server {
  const server = createServer(listener);
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.headersTimeout = options.headersTimeoutMs;
  return server;
}

const closing = new WeakMap<Server, Promise<void>>();

/**
 * Stops accepting connections (once); every open connection goes on, idle
 * keep-alive ones included. Resolves when the server has closed and every
 * connection ended. Used after a hot handoff (the successor accepts on the same
 * socket; the connections this process holds are served until their clients
 * close them or send one more request) and at drain start when systemd holds
 * the socket (new connections wait in its backlog for the next instance).
 *
 * Not `http.Server.close()`: since Node 19 that also closes every connection
 * that looks idle, including one whose next request is already on its way,
 * which the client then sees as ECONNRESET.
 */
export function stopAccepting(server: Server): Promise<void> {
  let closed = closing.get(server);
  if (!closed) {
    // The callback runs on 'close'; its "not running" error only means it never listened.
    closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    closing.set(server, closed);
  }
  return closed;
}

/**
 * Stops listening and closes every connection: idle ones at once, busy ones
 * (health checks, requests cut off at the drain deadline) after `graceMs`.
 */
export async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  const closed = stopAccepting(server);
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs).unref();
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
