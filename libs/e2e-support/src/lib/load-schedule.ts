/**
 * The pure parts of the open-loop load generator: when request i is due, and
 * which virtual client sends it. No timers, no sockets: the generator
 * (load-generator.ts) drives these with its clock.
 */

/** Milliseconds after t0 at which request `index` is due: `index / rate` seconds. */
export function scheduledAt(index: number, ratePerSec: number): number {
  return (index * 1_000) / ratePerSec;
}

/** How many requests a run of `durationMs` at `ratePerSec` schedules (the one at t0 included). */
export function plannedCount(ratePerSec: number, durationMs: number): number {
  if (!(ratePerSec > 0) || !(durationMs > 0)) throw new Error(`rate (${ratePerSec}/s) and duration (${durationMs} ms) must be positive`);
  return Math.ceil((durationMs * ratePerSec) / 1_000);
}

/**
 * Indices due at `elapsedMs` that were not sent yet: from `next` up to (not
 * including) the first index scheduled after `elapsedMs`, capped at `total`.
 * Open loop: what is due is sent whether or not earlier requests finished.
 */
export function dueRange(next: number, elapsedMs: number, ratePerSec: number, total: number): { from: number; to: number } {
  const lastDue = Math.floor((elapsedMs * ratePerSec) / 1_000);
  return { from: next, to: Math.max(next, Math.min(total, lastDue + 1)) };
}

/** Which virtual client sends a request, and whether it is one beyond the base set. */
export type ClientPick = { client: number; overflow: boolean } | { client: undefined; overflow: true };

/**
 * Virtual clients, each owning one keep-alive socket and sending one request
 * at a time. Request i goes to base client `i % base`; when that one is still
 * busy, to an idle overflow client (created on demand, at most `max` clients
 * in all). When every client is busy the pick is empty: the request gets the
 * outcome "no client" instead of a retry or a second socket.
 */
export class ClientPool {
  private readonly busy: boolean[] = [];
  private created: number;
  /** Requests that had to use an overflow client because their base client was busy. */
  overflowPicks = 0;
  /** Requests that found every client busy. */
  exhaustedPicks = 0;

  constructor(
    private readonly base: number,
    private readonly max: number,
  ) {
    if (!Number.isInteger(base) || base < 1 || max < base) throw new Error(`need 1 <= base clients (${base}) <= max clients (${max})`);
    this.created = base;
    for (let c = 0; c < base; c++) this.busy.push(false);
  }

  /** Number of virtual clients created so far (base + overflow). */
  get size(): number {
    return this.created;
  }

  /** Picks the client for request `index` and marks it busy. */
  acquire(index: number): ClientPick {
    const preferred = index % this.base;
    if (!this.busy[preferred]) return this.take(preferred, false);
    this.overflowPicks += 1;
    for (let c = this.base; c < this.created; c++) if (!this.busy[c]) return this.take(c, true);
    if (this.created < this.max) {
      this.busy.push(false);
      return this.take(this.created++, true);
    }
    this.exhaustedPicks += 1;
    return { client: undefined, overflow: true };
  }

  /** Marks a client idle again once its request has its outcome. */
  release(client: number): void {
    if (!this.busy[client]) throw new Error(`client ${client} released twice: a request had two outcomes`);
    this.busy[client] = false;
  }

  /** Clients busy right now. */
  get inUse(): number {
    return this.busy.filter(Boolean).length;
  }

  private take(client: number, overflow: boolean): ClientPick {
    this.busy[client] = true;
    return { client, overflow };
  }
}
