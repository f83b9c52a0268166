import type { AddressInfo, Server } from 'node:net';

/** Where a listener listens when nothing was inherited: a port (0 = any) and host, or an fd (systemd's). */
export type ListenTarget = { port: number; host?: string; backlog?: number } | { fd: number };

/**
 * The file descriptor of a listening `net.Server` (or `http.Server`). Node keeps
 * it on an internal handle, so this is the one place that reaches into it.
 *
 * @throws when the server is not listening, or listens on something without an fd.
 */
export function listenerFd(server: Server): number {
  const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    const why = handle ? 'its handle has no file descriptor (this Node version hides it?)' : 'it is not listening (closed, or never started)';
    throw new Error(`cannot pass this listener to a successor: ${why}`);
  }
  return fd;
}

export function describeTarget(target: ListenTarget): string {
  return 'fd' in target ? `fd ${target.fd}` : `${target.host ?? '(all addresses)'}:${target.port}`;
}

/** `server.listen(target)` as a promise: the address once listening, or the listen error with its cause. */
export function listenOn(server: Server, target: ListenTarget): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new Error(`cannot listen on ${describeTarget(target)}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen(target, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`listening on ${describeTarget(target)} gave ${String(address)}: only TCP listeners can be handed over`));
        return;
      }
      resolve(address);
    });
  });
}

/** The listeners a successor inherits: their names, and their fds in the same order (at 4, 5, ... in the successor). */
export interface PassableListeners {
  names: string[];
  fds: number[];
}

/** The servers registered for handoff, by name, in registration order. */
export class ListenerRegistry {
  private readonly servers = new Map<string, Server>();

  add(name: string, server: Server): void {
    if (this.servers.has(name)) throw new Error(`a listener named '${name}' is already registered; give each listener its own name`);
    this.servers.set(name, server);
  }

  has(name: string): boolean {
    return this.servers.has(name);
  }

  get(name: string): Server | undefined {
    return this.servers.get(name);
  }

  /**
   * Names and fds to pass, in the order they will appear in the successor (4, 5, ...);
   * `next`: a listener about to be registered, last.
   * @throws when a registered server no longer listens.
   */
  passable(next?: { name: string; fd: number }): PassableListeners {
    const names: string[] = [];
    const fds: number[] = [];
    for (const [name, server] of this.servers) {
      try {
        fds.push(listenerFd(server));
      } catch (error) {
        throw new Error(`listener '${name}': ${(error as Error).message}`, { cause: error });
      }
      names.push(name);
    }
    if (next) {
      names.push(next.name);
      fds.push(next.fd);
    }
    return { names, fds };
  }
}
