import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** Where to listen: a port and host, or a socket inherited from systemd. */
export type ListenTarget = { port: number; host: string } | { fd: number };

export function listen(server: Server, target: ListenTarget): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new Error(`cannot listen on ${describeTarget(target)}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen(target, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export function describeTarget(target: ListenTarget): string {
  return 'fd' in target ? `inherited socket fd ${target.fd}` : `${target.host}:${target.port}`;
}

/**
 * Stops listening and closes every connection: idle ones at once, busy ones
 * (health checks, requests cut off at the drain deadline) after `graceMs`.
 */
export function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs).unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
