/** One request (or other unit of work) being served. */
export interface InFlightEntry {
  readonly id: number;
  readonly method: string;
  /** A route label, e.g. `POST /qc/check`'s path without query string. */
  readonly route: string;
  readonly startedAt: number;
}

export interface InFlightSnapshot {
  count: number;
  oldestInFlightMs: number;
  byRoute: Record<string, number>;
}

/**
 * Tracks work in flight: count, age of the oldest, count per route, and who is
 * waiting for it to reach zero. `now` is injected so tests use fake time.
 */
export class InFlightRegistry {
  private readonly entries = new Map<number, InFlightEntry>();
  private readonly idleListeners = new Set<() => void>();
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  /** Registers work; call the returned function exactly once when it ends (repeats are ignored). */
  begin(method: string, route: string): () => void {
    const entry: InFlightEntry = { id: this.nextId++, method, route, startedAt: this.now() };
    this.entries.set(entry.id, entry);
    return () => this.end(entry.id);
  }

  get count(): number {
    return this.entries.size;
  }

  /** Entries oldest first. */
  list(): InFlightEntry[] {
    return [...this.entries.values()];
  }

  snapshot(): InFlightSnapshot {
    const byRoute: Record<string, number> = {};
    let oldest: number | undefined;
    for (const entry of this.entries.values()) {
      const key = `${entry.method} ${entry.route}`;
      byRoute[key] = (byRoute[key] ?? 0) + 1;
      oldest = oldest === undefined ? entry.startedAt : Math.min(oldest, entry.startedAt);
    }
    return {
      count: this.entries.size,
      oldestInFlightMs: oldest === undefined ? 0 : Math.max(0, this.now() - oldest),
      byRoute,
    };
  }

  /** Calls `listener` every time the count drops to zero; returns an unsubscribe function. */
  onIdle(listener: () => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  private end(id: number): void {
    if (!this.entries.delete(id) || this.entries.size > 0) return;
    for (const listener of [...this.idleListeners]) listener();
  }
}
