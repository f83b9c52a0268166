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

/** Requests that use the QC pool (its renders), as opposed to reading its statistics. */
export function isQcWork(path: string): boolean {
  return path.startsWith('/qc/');
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
  private forward: { listener: RequestListener; which: (path: string) => boolean } | undefined;
  private keepOpen = false;
  private localQc = 0;
  private readonly qcIdle = new Set<() => void>();

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

  /**
   * From now on every request other than health whose path `which` accepts (all by
   * default) is passed to `listener` (the successor proxy after a hot handoff)
   * instead of this process's handlers; it still counts in flight until its
   * response closed. The others are served here.
   */
  forwardTo(listener: RequestListener, which: (path: string) => boolean = () => true): void {
    this.forward = { listener, which };
  }

  /** Resolves once no QC request is in flight in this process's own handlers (forwarded ones do not count). */
  whenNoLocalQc(): Promise<void> {
    if (this.localQc === 0) return Promise.resolve();
    return new Promise((resolve) => this.qcIdle.add(resolve));
  }

  /**
   * While on (after a hot handoff whose successor takes the connections over), responses
   * during a shutdown no longer carry `Connection: close`: the connection moves instead.
   */
  keepConnectionsOpen(on: boolean): void {
    this.keepOpen = on;
  }

  /** Responses of admitted requests in flight now. */
  openResponses(): Iterable<ServerResponse> {
    return [...this.open];
  }

  /** Marks the responses of requests in flight to close their connection (not while connections move to a successor). */
  closeConnectionsOfInFlight(): void {
    if (this.keepOpen) return;
    for (const res of this.open) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  private handle(req: IncomingMessage, res: ServerResponse, app: RequestListener): void {
    const state = this.coordinator.state;
    const stopping = shuttingDown(state);
    const path = pathOf(req.url);
    if (stopping && !this.keepOpen) res.setHeader('Connection', 'close');
    if (isHealthPath(path)) {
      app(req, res);
      return;
    }
    if (!isAdmitting(state) && !this.handedOver()) {
      this.refuse(res);
      return;
    }
    const forward = this.forward?.which(path) ? this.forward.listener : undefined;
    const end = this.registry.begin(req.method ?? 'GET', path);
    const qc = !forward && isQcWork(path);
    if (qc) this.localQc += 1;
    this.open.add(res);
    res.once('close', () => {
      this.open.delete(res);
      end();
      if (qc) this.qcDone();
    });
    (forward ?? app)(req, res);
  }

  private qcDone(): void {
    this.localQc -= 1;
    if (this.localQc > 0) return;
    const waiters = [...this.qcIdle];
    this.qcIdle.clear();
    for (const resolve of waiters) resolve();
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
