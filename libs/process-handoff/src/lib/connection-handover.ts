import type { Server, Socket } from 'node:net';

/** What became of a connection offered to the successor. */
export type HandOverResult =
  /** The successor holds it now; this process closed its copy. */
  | 'passed'
  /** A request has begun on it (or a response is still being written): offer it again once it is idle. */
  | 'busy'
  /** It cannot be handed over (no successor channel, not an HTTP connection, closed): keep serving it here. */
  | 'unavailable';

/** The part of Node's stream handle that reading is stopped and restarted through. */
interface ReadableHandle {
  readStop(): number;
  readStart(): number;
  reading?: boolean;
}

/** The parsers of an `http.Server`'s connections list (Node >= 18.14) that have no message in progress. */
type ConnectionsList = { idle(): { socket?: Socket }[] };

/**
 * Node's list of an http.Server's connections, or undefined (not an http.Server, or
 * a Node that keeps no such list). It is the one place that knows whether the
 * server's parser has started reading a request on a connection: the bytes of a
 * request already read cannot travel with the socket, so such a connection must
 * not move.
 */
function connectionsOf(server: Server): ConnectionsList | undefined {
  const key = Object.getOwnPropertySymbols(server).find((symbol) => symbol.description === 'http.server.connections');
  const list = key === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[key];
  return typeof (list as ConnectionsList | undefined)?.idle === 'function' ? (list as ConnectionsList) : undefined;
}

/** True when `server` can tell idle connections apart (see {@link connectionsOf}). */
export function canHandOver(server: Server): boolean {
  return connectionsOf(server) !== undefined;
}

/**
 * Hands an idle client connection of `server` over to the successor: stops reading
 * it (so no byte of a next request is read here; whatever arrives stays in the
 * kernel and is read by the successor), checks that no request has begun on it (or
 * that nothing was ever read from it) and nothing is left to write, sends its
 * handle, and closes this process's copy (which does not close the connection: the
 * successor holds the same socket). A connection that turns out busy reads on,
 * untouched.
 */
export function handOverConnection(server: Server, socket: Socket, send: (handle: unknown) => Promise<void>): Promise<HandOverResult> {
  // One offer at a time per connection: a second one while the handle waits on the channel would send it twice.
  let offer = offers.get(socket);
  if (!offer) {
    offer = tryHandOver(server, socket, send).finally(() => offers.delete(socket));
    offers.set(socket, offer);
  }
  return offer;
}

const offers = new WeakMap<Socket, Promise<HandOverResult>>();

async function tryHandOver(server: Server, socket: Socket, send: (handle: unknown) => Promise<void>): Promise<HandOverResult> {
  const list = connectionsOf(server);
  const handle = (socket as unknown as { _handle?: ReadableHandle | null })._handle;
  if (!list || !handle || socket.destroyed || typeof handle.readStop !== 'function') return 'unavailable';
  handle.readStop();
  // Node counts a connection that has sent nothing yet as in a message (its headers timeout runs
  // from the accept), so it is not in the idle list; with no byte read here, it moves as well.
  // Left here, a client's pre-opened connection held the old process until its shutdown deadline.
  const idle = list.idle().some((parser) => parser.socket === socket) || socket.bytesRead === 0;
  const response = (socket as unknown as { _httpMessage?: { writableEnded?: boolean } | null })._httpMessage;
  if (!idle || socket.writableLength > 0 || (response && !response.writableEnded)) {
    handle.readStart();
    return 'busy';
  }
  // No keep-alive timer may close our copy while the handle waits its turn on the channel.
  socket.setTimeout(0);
  try {
    await send(handle);
  } catch {
    if (!socket.destroyed) handle.readStart();
    return 'unavailable';
  }
  socket.destroy();
  return 'passed';
}
