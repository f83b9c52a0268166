import { createServer, IncomingMessage, ServerResponse, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { Server as NetServer } from 'node:net';

export interface HttpServerOptions {
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  /** The classes of requests and responses (node:http's options of the same names); see {@link messageClassesFor}. */
  messages?: MessageClasses;
}

/** The objects an Express app gives its requests and responses as prototypes: `app.request`, `app.response`. */
export interface MessagePrototypes {
  request: IncomingMessage;
  response: ServerResponse;
}

/** node:http's `IncomingMessage` and `ServerResponse` server options. */
export type MessageClasses = Required<Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'>>;

/** The classes that {@link messageClassesFor} extends: node:http's own. */
export interface BaseMessageClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

/**
 * Request and response classes whose instances are born with an Express app's prototypes.
 *
 * Express 5 gives every request and response its app's prototypes as it takes them
 * (`Object.setPrototypeOf` in `app.handle`). Measured on Node 20, objects treated so survived V8's
 * young-generation collections (scavenges) with everything they held, and were promoted to the old
 * generation: under the restart bench's load, 3.4 MB copied at every scavenge, a quarter of what
 * the process allocated, and pauses of 5-9 ms against 1-2 ms without it
 * (tools/bench/scavenge.bench.ts; tools/bench/README.md, cause 14). With the prototypes in place
 * from the start, Express's call changes nothing.
 *
 * node:http's classes are plain functions, so the new ones initialise `this` through them, as
 * node's own subclasses do. Should they become `class`es (which cannot be called), the new ones
 * build through `Reflect.construct` instead: the prototypes are still right, but such objects
 * still survive a third as much (measured with the same bench on Node 20).
 */
export function messageClassesFor(prototypes: MessagePrototypes, base: BaseMessageClasses = { IncomingMessage, ServerResponse }): MessageClasses {
  return {
    IncomingMessage: subclass(base.IncomingMessage, prototypes.request),
    ServerResponse: subclass(base.ServerResponse, prototypes.response),
  };
}

/** A constructor whose instances have `prototype` and are initialised by `Base`. */
function subclass<T extends abstract new (...args: never[]) => object>(Base: T, prototype: InstanceType<T>): T {
  // A plain function, so that `prototype` can be the app's own object (a class's cannot be replaced).
  const Sub = callable(Base)
    ? function (this: object, ...args: unknown[]) {
        (Base as unknown as (this: object, ...args: unknown[]) => void).apply(this, args);
      }
    : function (...args: unknown[]): object {
        return Reflect.construct(Base, args, Sub);
      };
  Sub.prototype = prototype;
  return Sub as unknown as T;
}

/** Whether `fn` may be called with a `this` of our choosing: a plain function, not a `class`. */
const callable = (fn: unknown): boolean => typeof fn === 'function' && !/^class\b/.test(Function.prototype.toString.call(fn));

/**
 * A plain node:http server with the keep-alive timeouts set explicitly: they
 * must stay above the load balancer's upstream keep-alive, or the balancer
 * reuses a socket the server is closing and the request fails.
 */
export function createHttpServer(listener: RequestListener, options: HttpServerOptions): Server {
  const server = createServer(options.messages ?? {}, listener);
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
