import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isAdmitting, type InFlightRegistry, type ShutdownCoordinator, type ShutdownState } from '@edu-agents/shutdown-state';

/** Routes that are always answered and never counted as in-flight work. */
export function isHealthPath(path: string): boolean {
  return path === '/health' || path === '/health/ready' || path === '/health/live';
}

export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

/** Seconds a refused client is told to wait: about one restart of an instance. */
export const RETRY_AFTER_SEC = 2;

/**
 * The HTTP edge of the shutdown, in front of every handler and body parser:
 * - health routes always pass (they report the phase);
 * - once new work is refused, other requests get 503 + Retry-After +
 *   Connection: close and a JSON body, before any handler runs;
 * - admitted requests are counted in flight until their response closes;
 * - once a shutdown began, every response carries Connection: close, including
 *   those of requests already in flight whose headers are not sent yet.
 */
export class RequestGate {
  private readonly open = new Set<ServerResponse>();

  /**
   * @param handedOver true once a hot handoff made a successor the server: every
   *   request that still arrives here came on a connection accepted before the
   *   switch, and serving it (then closing the connection) is the only answer
   *   that does not fail a client. A 503 belongs to a process nobody replaces.
   */
  constructor(
    private readonly registry: InFlightRegistry,
    private readonly coordinator: ShutdownCoordinator,
    private readonly handedOver: () => boolean = () => false,
  ) {}

  /** Wraps the application's request listener. */
  wrap(app: RequestListener): RequestListener {
    return (req, res) => this.handle(req, res, app);
  }

  /** Marks the responses of requests in flight to close their connection. */
  closeConnectionsOfInFlight(): void {
    for (const res of this.open) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  private handle(req: IncomingMessage, res: ServerResponse, app: RequestListener): void {
    const state = this.coordinator.state;
    const stopping = shuttingDown(state);
    const path = pathOf(req.url);
    if (stopping) res.setHeader('Connection', 'close');
    if (isHealthPath(path)) {
      app(req, res);
      return;
    }
    if (!isAdmitting(state) && !this.handedOver()) {
      this.refuse(res);
      return;
    }
    const end = this.registry.begin(req.method ?? 'GET', path);
    this.open.add(res);
    res.once('close', () => {
      this.open.delete(res);
      end();
    });
    app(req, res);
  }

  private refuse(res: ServerResponse): void {
    const snapshot = this.coordinator.snapshot();
    const body = JSON.stringify({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'The server is shutting down and takes no new requests; retry on another instance or after Retry-After.',
      phase: snapshot.phase,
      deadline: snapshot.deadline,
    });
    res.writeHead(503, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Retry-After': String(RETRY_AFTER_SEC),
      Connection: 'close',
    });
    res.end(body);
  }
}

function shuttingDown(state: ShutdownState): boolean {
  return state !== 'starting' && state !== 'ready';
}
