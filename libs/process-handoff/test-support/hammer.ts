import { askPid } from './fixture-process';

/** One request of the hammer: when it ended, and the pid that answered or the error code. */
export interface Shot {
  at: number;
  pid?: number;
  error?: string;
}

/**
 * Clients that each open a fresh connection, send one request and, once it is
 * answered, open the next: a tight loop of new connections, the case in which
 * a missing accept shows up as ECONNREFUSED and a dropped one as ECONNRESET.
 */
export class Hammer {
  readonly shots: Shot[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly port: number,
    concurrency = 4,
  ) {
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  async stop(): Promise<Shot[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.shots;
  }

  get errors(): Shot[] {
    return this.shots.filter((s) => s.error !== undefined);
  }

  answeredBy(pid: number): number {
    return this.shots.filter((s) => s.pid === pid).length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const pid = await askPid(this.port);
        this.shots.push({ at: Date.now(), pid });
      } catch (error) {
        this.shots.push({ at: Date.now(), error: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
      }
    }
  }
}

/** The longest time between two answered requests within [from, to]: how long clients waited at the switch. */
export function longestGap(shots: Shot[], from: number, to: number): number {
  const times = shots.filter((s) => s.pid !== undefined && s.at >= from && s.at <= to).map((s) => s.at).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i += 1) gap = Math.max(gap, times[i] - times[i - 1]);
  return gap;
}
