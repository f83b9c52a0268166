import { createServer, type RequestListener, type Server } from 'node:http';

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
 * Stops accepting connections (once); those open go on. Resolves when the
 * server has closed and every connection ended. Used at drain start when the
 * listening socket is inherited from systemd: systemd keeps it open, so new
 * connections wait in its backlog for the next instance instead of being refused.
 */
export function stopAccepting(server: Server): Promise<void> {
  let closed = closing.get(server);
  if (!closed) {
    // close()'s callback runs on 'close'; its "not running" error only means it never listened.
    closed = new Promise<void>((resolve) => server.close(() => resolve()));
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
