/**
 * The IPC protocol between predecessor and successor (advanced serialization).
 *
 * successor -> predecessor: `hello` as soon as its library runs, `output` (a copy
 * of what it writes to stdout/stderr until it is ready), `fatal` (an uncaught
 * exception), `wants` (it takes handles of that `kind`: see `handle` below), `ready` (it serves); after `retiring`, `work` each time its work whose
 * latency counts begins (`busy`) or ends, the first at once, until the predecessor
 * exits. predecessor -> successor: `state`, sent right
 * after `hello`, with the data of the app's state provider (or `undefined`); after
 * `ready`, `connection` with a client connection's socket as the message's handle,
 * for the listener `listener` (an idle keep-alive connection handed over); `retiring`
 * once it lets go of what it holds, with the processes the successor may stop while
 * it does work whose latency counts (`targets`, as kill(2) takes them: -pgid a group;
 * none when it paces what it lets go of by the successor's `work` instead); `handle`, after
 * `ready`, with anything else the app passes on as the message's handle (a pipe, a socket) and
 * data of its own, under a `kind` the successor's app listens for. Both ways, at any time from
 * `hello` on: `message`, data of the apps' own under a `kind` (a conversation the two apps hold
 * beside the handoff's, such as a DevTools session the predecessor relays for the successor).
 */
export type ToPredecessor =
  | { type: 'hello'; pid: number }
  | { type: 'output'; stream: OutputStream; text: string }
  | { type: 'fatal'; text: string }
  | { type: 'ready' }
  | { type: 'work'; busy: boolean }
  | { type: 'wants'; kind: string }
  | { type: 'message'; kind: string; data: unknown };

export type ToSuccessor =
  | { type: 'state'; data: unknown }
  | { type: 'connection'; listener: string }
  | { type: 'retiring'; targets: number[] }
  | { type: 'handle'; kind: string; data: unknown }
  | { type: 'message'; kind: string; data: unknown };

export type OutputStream = 'stdout' | 'stderr';

type Tagged = { type?: unknown } & Record<string, unknown>;

const tagged = (message: unknown): message is Tagged => typeof message === 'object' && message !== null;

/** Whether a message from the successor is one of ours and well formed. */
export function isToPredecessor(message: unknown): message is ToPredecessor {
  if (!tagged(message)) return false;
  switch (message.type) {
    case 'hello':
      return typeof message['pid'] === 'number';
    case 'output':
      return (message['stream'] === 'stdout' || message['stream'] === 'stderr') && typeof message['text'] === 'string';
    case 'fatal':
      return typeof message['text'] === 'string';
    case 'ready':
      return true;
    case 'work':
      return typeof message['busy'] === 'boolean';
    case 'wants':
      return typeof message['kind'] === 'string';
    case 'message':
      return typeof message['kind'] === 'string' && 'data' in message;
    default:
      return false;
  }
}

/** Whether a message from the predecessor is one of ours. */
export function isToSuccessor(message: unknown): message is ToSuccessor {
  if (!tagged(message)) return false;
  if (message.type === 'state') return 'data' in message;
  if (message.type === 'retiring') return Array.isArray(message['targets']) && message['targets'].every((t) => Number.isInteger(t) && Math.abs(t as number) > 1);
  if (message.type === 'handle' || message.type === 'message') return typeof message['kind'] === 'string' && 'data' in message;
  return message.type === 'connection' && typeof message['listener'] === 'string';
}
