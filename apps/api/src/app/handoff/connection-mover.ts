import type { HandOverResult } from '@edu-agents/process-handoff';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logging/logger';

/** How often the connections still here are offered again (a busy one is offered at its response's end too). */
const SWEEP_MS = 100;

export interface ConnectionMoverDeps {
  server: Server;
  /** The connections this process holds now. */
  sockets: () => Iterable<Socket>;
  /** Responses in flight at the switch: their connections move once they finished. */
  openResponses: () => Iterable<ServerResponse>;
  handOver: (socket: Socket) => Promise<HandOverResult>;
  /** Called once when connections cannot move (no channel to the successor): serve them here and close them as before. */
  onUnavailable: () => void;
  logger: Logger;
}

/**
 * After a hot handoff, moves this process's client connections to the successor:
 * idle ones at once, busy ones as soon as their response finished (and, should a
 * finish be missed, at the next sweep). A moved connection stays open for its
 * client, keep-alive and all; nginx's upstream pool never sees a close. Once none
 * is left the predecessor has nothing to linger for.
 *
 * One connection at a time: a connection stops being read here only when its turn
 * comes, and each handle waits for the successor's acknowledgment of the one
 * before it. Offering all at once would park every connection, and the requests
 * arriving on them, behind that queue of round trips (measured: a 200 ms stall of
 * 64 connections at the switch).
 */
export class ConnectionMover {
  private timer: NodeJS.Timeout | undefined;
  private moved = 0;
  private stopped = false;
  private readonly queue: Socket[] = [];
  private readonly queued = new Set<Socket>();
  private working = false;

  constructor(private readonly deps: ConnectionMoverDeps) {}

  start(): void {
    const { server, openResponses } = this.deps;
    for (const res of openResponses()) this.afterResponse(res);
    server.on('request', this.onRequest);
    this.sweep();
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.deps.server.off('request', this.onRequest);
  }

  private readonly onRequest = (_req: unknown, res: ServerResponse) => this.afterResponse(res);

  private afterResponse(res: ServerResponse): void {
    res.once('finish', () => setImmediate(() => res.socket && this.offer(res.socket)));
  }

  private sweep(): void {
    for (const socket of this.deps.sockets()) this.offer(socket);
  }

  private offer(socket: Socket): void {
    if (this.stopped || socket.destroyed || this.queued.has(socket)) return;
    this.queued.add(socket);
    this.queue.push(socket);
    void this.work();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let socket = this.queue.shift(); socket && !this.stopped; socket = this.queue.shift()) {
        this.queued.delete(socket);
        if (socket.destroyed) continue;
        const result = await this.deps.handOver(socket);
        if (result === 'passed') this.moved += 1;
        else if (result === 'unavailable') this.unavailable();
      }
    } finally {
      this.working = false;
    }
  }

  private unavailable(): void {
    if (this.stopped) return;
    this.stop();
    this.queue.length = 0;
    this.queued.clear();
    this.deps.logger.warn('handed over: connections cannot move to the successor (its channel is gone); serving them here until they close', { moved: this.moved });
    this.deps.onUnavailable();
  }
}
