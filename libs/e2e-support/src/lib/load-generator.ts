import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { requestOf, type LoadMix } from './load-mix';
import { ClientPool, dueRange, plannedCount, scheduledAt } from './load-schedule';

/** One request of the load: what to send for request number `index`. */
export interface LoadRequest {
  /** Groups results in the report, e.g. `GET /qc-stats`. */
  label: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** Options of an open-loop run against 127.0.0.1:`port`. */
export interface LoadOptions {
  port: number;
  host?: string;
  ratePerSec: number;
  /** Upper bound of the run; `stop()` ends the schedule earlier. */
  maxDurationMs: number;
  /** What to send for request number `index`: a function, or a mix as data. */
  request: ((index: number) => LoadRequest) | LoadMix;
  /** Virtual clients with a socket each (default 64); request i prefers client i % baseClients. */
  baseClients?: number;
  /** Bound of the client pool, overflow clients included (default 16 x baseClients). */
  maxClients?: number;
  /** A request without an answer after this long gets the outcome TIMEOUT (default 30 s). */
  timeoutMs?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

/** The single outcome of one scheduled request. Times are ms after t0. */
export interface RequestRecord {
  index: number;
  label: string;
  client: number | undefined;
  overflow: boolean;
  /** The request opened a new TCP connection (its client had none alive). */
  newConnection: boolean;
  /** The client side's port of the connection it went out on (undefined when it never connected): names the connection a server accepted. */
  localPort?: number;
  scheduledMs: number;
  startMs: number;
  endMs: number;
  status?: number;
  /** Error code, e.g. ECONNRESET, ECONNREFUSED, TIMEOUT, NO_CLIENT. */
  error?: string;
  /** The first characters of the body of an answer with a status of 400 or more. */
  detail?: string;
}

export interface LoadRun {
  /** Wall-clock ms at t0 ({@link epochNow}), to place other events, in this or another process, on the same time line. */
  t0Epoch: number;
  ratePerSec: number;
  /** Requests the schedule reached before it ended: each has exactly one record. */
  scheduled: number;
  records: RequestRecord[];
  clientsCreated: number;
  overflowPicks: number;
  exhaustedPicks: number;
  connectionsOpened: number;
  /** Outcomes reported twice for one request (must be 0: a bug in the generator if not). */
  duplicateOutcomes: number;
}

export interface RunningLoad {
  /** Resolves once the schedule ended and every scheduled request has its outcome. */
  done: Promise<LoadRun>;
  /** Ends the schedule now: no request is scheduled after this call. */
  stop(): void;
  /** Ms since t0 on the generator's clock. */
  elapsed(): number;
  /** Wall-clock ms at t0 (see {@link epochNow}). */
  t0Epoch: number;
}

/** How much of a failed answer's body a record keeps. */
const DETAIL_CHARS = 200;

/** Wall-clock time in ms with sub-ms resolution, comparable across processes on one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * An open-loop load generator on node:http: request i is sent at t0 + i/rate
 * whether or not earlier ones finished. Each virtual client owns one
 * keep-alive socket and sends one request at a time; nothing is ever retried,
 * so every scheduled request has exactly one outcome: a status or an error.
 * Latency is measured from the scheduled time, so a stalled server shows up
 * as latency instead of as fewer requests.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const now = options.now ?? (() => performance.now());
  const requestFor = typeof options.request === 'function' ? options.request : requestOf(options.request);
  const baseClients = options.baseClients ?? 64;
  const pool = new ClientPool(baseClients, options.maxClients ?? baseClients * 16);
  const agents: Agent[] = [];
  const agentOf = (client: number) => (agents[client] ??= new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 }));
  const total = plannedCount(options.ratePerSec, options.maxDurationMs);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const records: (RequestRecord | undefined)[] = [];
  const t0 = now();
  const t0Epoch = epochNow();
  const elapsed = () => now() - t0;
  let next = 0;
  let stopped = false;
  let pending = 0;
  let duplicateOutcomes = 0;
  let connectionsOpened = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish: (run: LoadRun) => void = () => undefined;
  const done = new Promise<LoadRun>((resolve) => (finish = resolve));

  const maybeFinish = () => {
    if (!stopped || pending > 0) return;
    for (const agent of agents) agent?.destroy();
    finish({
      t0Epoch, ratePerSec: options.ratePerSec, scheduled: next, records: records.filter((r): r is RequestRecord => r !== undefined),
      clientsCreated: pool.size, overflowPicks: pool.overflowPicks, exhaustedPicks: pool.exhaustedPicks, connectionsOpened, duplicateOutcomes,
    });
  };

  const send = (index: number) => {
    const spec = requestFor(index);
    const pick = pool.acquire(index);
    const record: RequestRecord = {
      index, label: spec.label, client: pick.client, overflow: pick.overflow, newConnection: false,
      scheduledMs: scheduledAt(index, options.ratePerSec), startMs: elapsed(), endMs: 0,
    };
    if (pick.client === undefined) {
      records[index] = { ...record, endMs: record.startMs, error: 'NO_CLIENT' };
      return;
    }
    const client = pick.client;
    pending += 1;
    let settled = false;
    const settle = (outcome: { status?: number; error?: string; detail?: string }) => {
      if (settled) {
        duplicateOutcomes += 1;
        return;
      }
      settled = true;
      records[index] = { ...record, ...outcome, endMs: elapsed() };
      pool.release(client);
      pending -= 1;
      maybeFinish();
    };
    const headers: Record<string, string | number> = spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) };
    const req = httpRequest({ host: options.host ?? '127.0.0.1', port: options.port, method: spec.method, path: spec.path, headers, agent: agentOf(client) }, (res) => {
      // A failed answer keeps the start of its body: it says why (which 503 of several).
      const failed = (res.statusCode ?? 0) >= 400;
      let detail = '';
      res.on('data', (chunk: Buffer) => {
        if (failed && detail.length < DETAIL_CHARS) detail += chunk.toString('utf8');
      });
      res.on('end', () => settle({ status: res.statusCode ?? 0, ...(failed ? { detail: detail.slice(0, DETAIL_CHARS) } : {}) }));
      res.on('error', (error: NodeJS.ErrnoException) => settle({ status: res.statusCode, error: error.code ?? 'RESPONSE_ERROR' }));
    });
    req.on('socket', (socket) => {
      if (socket.localPort !== undefined) record.localPort = socket.localPort;
      else socket.once('connect', () => (record.localPort = socket.localPort));
      // A socket the agent hands out for the first time: a new TCP connection.
      if (!(socket as { edLoadSeen?: boolean }).edLoadSeen) {
        (socket as { edLoadSeen?: boolean }).edLoadSeen = true;
        record.newConnection = true;
        connectionsOpened += 1;
      }
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? 'REQUEST_ERROR' }));
    req.end(spec.body);
  };

  const tick = () => {
    timer = undefined;
    if (stopped) return;
    const { from, to } = dueRange(next, elapsed(), options.ratePerSec, total);
    for (let i = from; i < to; i++) {
      next = i + 1; // counted before send: a throwing request() still leaves a consistent count
      send(i);
    }
    if (next >= total) return stop();
    timer = setTimeout(tick, Math.max(0, scheduledAt(next, options.ratePerSec) - elapsed()));
  };

  function stop(): void {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    maybeFinish();
  }

  timer = setTimeout(tick, 0);
  return { done, stop, elapsed, t0Epoch };
}
