import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The client connections a server holds. After a hot handoff the predecessor
 * keeps serving the connections it accepted before the switch and exits once
 * the last one closed; this is how it knows.
 */
export class ConnectionTracker {
  private readonly sockets = new Set<Socket>();
  private readonly closeListeners = new Set<() => void>();

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        for (const listener of [...this.closeListeners]) listener();
      });
    });
  }

  /** Connections open right now. */
  get count(): number {
    return this.sockets.size;
  }

  /** The connections open right now. */
  list(): Socket[] {
    return [...this.sockets];
  }

  /** Calls `listener` after each connection closed; returns the unsubscribe. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
}
