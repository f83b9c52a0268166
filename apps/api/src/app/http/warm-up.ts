import { Agent, createServer, request, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageClasses } from './http-server';

/** What a warm-up did: how many requests were answered, in how long, and whether its deadline cut it short. */
export interface WarmUpResult {
  requests: number;
  ms: number;
  cutShort: boolean;
}

export interface WarmUpOptions {
  /** Requests to send in all; 0 sends none. */
  requests: number;
  /** Keep-alive connections they share (the load's clients reuse theirs too). */
  connections: number;
  /** The requests, taken in turn: routes that change no state. */
  routes: readonly WarmUpRoute[];
  /** The warm-up stops here, answered or not: it must never hold up a start. */
  deadlineMs: number;
  /** The request and response classes of the server that will serve, so the same code runs warm. */
  messages?: MessageClasses;
}

/** One warm-up request: a GET, or a POST with a JSON body. */
export interface WarmUpRoute {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text sent with a POST. */
  body?: string;
}

/**
 * Side-effect-free requests of the API: what a client's first requests to a new process take.
 * The QC routes get `{}`, which their validation refuses (400) before any work reaches Chrome: it
 * runs their body parser (whose character decoder is loaded on the first body), routing and
 * validation, and changes no statistics.
 */
export const WARM_UP_ROUTES: readonly WarmUpRoute[] = [
  ...['/qc-stats', '/health', '/health/ready', '/health/live', '/metrics', '/no-such-route'].map((path) => ({ method: 'GET' as const, path })),
  { method: 'POST', path: '/qc/check', body: '{}' },
  { method: 'POST', path: '/qc/screenshot', body: '{}' },
];

/**
 * Sends `requests` requests through `listener` on a private loopback server (port 0)
 * before the process takes traffic. A new process's request path is cold: V8 runs
 * it in its interpreter until it has seen enough calls to compile it, so a new
 * process spends about twice the CPU per request of the one it replaces in its first
 * second. Here those calls happen before the switch, at the start-up's priority,
 * instead of on the first clients' requests.
 */
export async function warmRequestPath(listener: RequestListener, options: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  if (options.requests <= 0) return { requests: 0, ms: 0, cutShort: false };
  if (options.routes.length === 0) throw new Error('warmRequestPath needs at least one route');
  const server = createServer(options.messages ?? {}, listener);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  let sent = 0;
  let answered = 0;
  let cut: NodeJS.Timeout | undefined;
  const deadline = started + options.deadlineMs;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const one = ({ method, path, body }: WarmUpRoute) =>
      new Promise<void>((resolve, reject) => {
        const headers: Record<string, string | number> = { 'user-agent': 'edu-agents warm-up' };
        if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
          res.resume();
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    const client = async () => {
      while (sent < options.requests && performance.now() < deadline) {
        const route = options.routes[sent % options.routes.length];
        sent += 1;
        try {
          await one(route);
        } catch {
          return; // cut at the deadline (or the listener broke a connection): the start goes on regardless
        }
        answered += 1;
      }
    };
    // A request still unanswered at the deadline is cut with its connection.
    cut = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - performance.now()));
    await Promise.all(Array.from({ length: Math.max(1, options.connections) }, client));
  } finally {
    clearTimeout(cut);
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return { requests: answered, ms: Math.round(performance.now() - started), cutShort: answered < options.requests };
}
