import type { ProcessEnvironment } from './process-environment';

/** The fields of /proc/<pid>/stat the tree killer needs. */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  /** State letter: R, S, D, T, Z, ... */
  state: string;
  /** Start time since boot in clock ticks: with the pid, identifies a process across pid reuse. */
  startTime: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields start after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = text.slice(end + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]); // n as numbered in proc(5); fields[0] is field 3
  const stat = { pid, ppid: field(4), pgid: field(5), state: fields[0] ?? '?', startTime: field(22) };
  return Number.isFinite(stat.ppid) && Number.isFinite(stat.startTime) ? stat : undefined;
}

/** At most this many freeze-and-walk rounds: a tree that still grows after them is killed as far as it was seen. */
const MAX_ROUNDS = 20;

/**
 * Kills a process with all its descendants, found by their parent links in /proc,
 * including those that lead process groups of their own (puppeteer starts
 * Chromium detached). Each process found is stopped first (SIGSTOP), so none can
 * fork behind the walk, then all get SIGKILL; a group leader's whole group too.
 *
 * Descendants seen by {@link remember} are killed as well when they still run
 * (same pid and start time): once their parent has died they hang off init, out
 * of reach of the walk.
 */
export class TreeKiller {
  private readonly remembered = new Map<number, number>();

  constructor(private readonly env: Pick<ProcessEnvironment, 'pid' | 'listPids' | 'readStat' | 'kill' | 'setTimer' | 'clearTimer'>) {}

  /** Remembers the descendants of `root` every `everyMs` until the returned function is called. */
  follow(root: number, everyMs: number): () => void {
    let timer: unknown;
    const sample = () => {
      this.remember(root);
      timer = this.env.setTimer(sample, everyMs);
    };
    timer = this.env.setTimer(sample, everyMs);
    return () => this.env.clearTimer(timer);
  }

  /** Records the current descendants of `root`. */
  remember(root: number): void {
    for (const proc of this.walk([root], new Set([root]), () => undefined)) {
      if (proc.pid !== root) this.remembered.set(proc.pid, proc.startTime);
    }
  }

  /**
   * Stops, then kills `root` and its tree, and the remembered descendants still
   * running; returns the pids that were signalled. Pass no root once the root's
   * exit was seen: its pid may already belong to someone else.
   */
  kill(root?: number): number[] {
    const table = this.table();
    const roots = [...(root === undefined ? [] : [root]), ...[...this.remembered].filter(([pid, start]) => table.get(pid)?.startTime === start).map(([pid]) => pid)];
    const frozen = new Set<number>();
    const freeze = (pid: number) => {
      if (pid === this.env.pid || frozen.has(pid)) return;
      frozen.add(pid);
      this.env.kill(pid, 'SIGSTOP');
    };
    roots.forEach(freeze);
    const found = new Map<number, ProcStat>();
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const before = frozen.size;
      for (const proc of this.walk(roots, new Set(roots), freeze)) found.set(proc.pid, proc);
      if (frozen.size === before) break;
    }
    const ownGroup = this.stat(this.env.pid)?.pgid;
    for (const pid of frozen) {
      const proc = found.get(pid) ?? table.get(pid);
      if (proc && proc.pgid === pid && proc.pgid !== ownGroup) this.env.kill(-pid, 'SIGKILL');
      this.env.kill(pid, 'SIGKILL');
    }
    this.remembered.clear();
    return [...frozen];
  }

  /** Processes under `roots` (roots included when alive), calling `visit` on each as it is found. */
  private walk(roots: number[], seen: Set<number>, visit: (pid: number) => void): ProcStat[] {
    const table = this.table();
    const children = new Map<number, ProcStat[]>();
    for (const proc of table.values()) children.set(proc.ppid, [...(children.get(proc.ppid) ?? []), proc]);
    const out: ProcStat[] = roots.flatMap((pid) => table.get(pid) ?? []);
    const stack = [...roots];
    while (stack.length > 0) {
      for (const child of children.get(stack.pop() as number) ?? []) {
        if (seen.has(child.pid)) continue;
        seen.add(child.pid);
        visit(child.pid);
        out.push(child);
        stack.push(child.pid);
      }
    }
    return out;
  }

  private table(): Map<number, ProcStat> {
    const table = new Map<number, ProcStat>();
    for (const pid of this.env.listPids()) {
      const proc = this.stat(pid);
      if (proc) table.set(pid, proc);
    }
    return table;
  }

  private stat(pid: number): ProcStat | undefined {
    const text = this.env.readStat(pid);
    return text === undefined ? undefined : parseStat(pid, text);
  }
}
