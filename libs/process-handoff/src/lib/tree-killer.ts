import { isGone, tryStat, type ProcStat } from './proc-stat';
import type { ProcessEnvironment } from './process-environment';

/** A tree stopped by {@link TreeKiller.freeze}: each pid with what /proc said of it (undefined: not seen there). */
export interface FrozenTree {
  procs: Map<number, ProcStat | undefined>;
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

  constructor(private readonly env: Pick<ProcessEnvironment, 'pid' | 'listPids' | 'listChildren' | 'readStat' | 'kill' | 'setTimer' | 'clearTimer' | 'now'>) {}

  /**
   * Remembers the descendants of `root` every `everyMs` until the returned function is
   * called. Each walk reads one process's children files per turn of the event loop
   * ({@link rememberStepwise}): a starting Chromium has a hundred threads, and reading all
   * their files at once held the serving process's loop for 4-6 ms every walk.
   */
  follow(root: number, everyMs: number): () => void {
    let timer: unknown;
    let stopped = false;
    const sample = () => {
      void this.rememberStepwise(root, () => stopped).then(() => {
        if (!stopped) timer = this.env.setTimer(sample, everyMs);
      });
    };
    timer = this.env.setTimer(sample, everyMs);
    return () => {
      stopped = true;
      this.env.clearTimer(timer);
    };
  }

  /**
   * What {@link remember} records, one process per turn of the event loop: the children
   * files of one process (all its threads), then a turn, then the next. Stops early when
   * `stop` says so. Without children files it walks the table at once, as {@link remember} does.
   */
  async rememberStepwise(root: number, stop: () => boolean = () => false): Promise<void> {
    const steps = this.recording(root);
    while (!stop() && !steps.next().done) await new Promise<void>((resolve) => this.env.setTimer(resolve, 0));
  }

  /**
   * Records the current descendants of `root`. This runs every few hundred ms in the
   * serving process while its successor starts, so it reads only the subtree (each
   * process's children files) where the kernel has them: a walk of the whole /proc
   * table reads every process of the host, milliseconds of the event loop on a busy one.
   */
  remember(root: number): void {
    const steps = this.recording(root);
    while (!steps.next().done);
  }

  /**
   * Records `root`'s descendants by their children files, pausing (yield) after each
   * process found; by a walk of the whole table, at once, where there are no children files.
   */
  private *recording(root: number): Generator<void, void> {
    const rootChildren = this.env.listChildren?.(root);
    if (rootChildren === undefined) {
      for (const proc of this.walk([root], new Set([root]), () => undefined)) if (proc.pid !== root) this.remembered.set(proc.pid, proc.startTime);
      return;
    }
    if (!this.stat(root)) return; // gone since its children were listed
    const seen = new Set([root]);
    const stack = [rootChildren];
    while (stack.length > 0) {
      for (const child of stack.pop() as number[]) {
        if (seen.has(child)) continue;
        seen.add(child);
        // A child that ended between its parent's listing and ours has no stat and no children: it is skipped.
        const proc = this.stat(child);
        if (!proc) continue;
        this.remembered.set(child, proc.startTime);
        stack.push(this.env.listChildren?.(child) ?? []);
        yield;
      }
    }
  }

  /**
   * The descendants recorded so far that still run as the same processes (pid and start
   * time), in the order they were found: one stat read each, no walk. Pids in `known` (just
   * seen by the caller) are left out unread.
   */
  stillRunning(known: ReadonlySet<number> = new Set()): number[] {
    return [...this.remembered].filter(([pid, start]) => {
      if (known.has(pid)) return false;
      const stat = this.stat(pid);
      return stat !== undefined && !isGone(stat, start);
    }).map(([pid]) => pid);
  }

  /**
   * Stops, then kills `root` and its tree, and the remembered descendants still
   * running; returns the pids that were signalled. Pass no root once the root's
   * exit was seen: its pid may already belong to someone else.
   */
  kill(root?: number): number[] {
    return this.killFrozen(this.freeze(root));
  }

  /**
   * Stops (SIGSTOP) `root`, its tree and the remembered descendants still running,
   * walking again until no new process appears: a frozen tree cannot fork, write
   * a file or send a message any more, so the caller can set things right (take
   * back the pid file, MAINPID) before {@link killFrozen} kills it.
   */
  freeze(root?: number): FrozenTree {
    let table: Map<number, ProcStat>;
    try {
      table = this.table();
    } catch {
      // Without /proc (EMFILE) the tree cannot be walked: stop and kill the root at least.
      if (root !== undefined && root !== this.env.pid) this.env.kill(root, 'SIGSTOP');
      this.remembered.clear();
      return { procs: new Map(root === undefined ? [] : [[root, undefined]]) };
    }
    const roots = [...(root === undefined ? [] : [root]), ...[...this.remembered].filter(([pid, start]) => table.get(pid)?.startTime === start).map(([pid]) => pid)];
    const frozen = new Map<number, ProcStat | undefined>();
    const freeze = (pid: number) => {
      if (pid === this.env.pid || frozen.has(pid)) return;
      frozen.set(pid, table.get(pid));
      this.env.kill(pid, 'SIGSTOP');
    };
    roots.forEach(freeze);
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const before = frozen.size;
      for (const proc of this.walk(roots, new Set(roots), freeze)) frozen.set(proc.pid, proc);
      if (frozen.size === before) break;
    }
    this.remembered.clear();
    return { procs: frozen };
  }

  /**
   * SIGKILLs every frozen process, and the whole group of each that leads a group
   * of its own (never our own group); returns the pids that were signalled.
   */
  killFrozen(tree: FrozenTree): number[] {
    const ownGroup = this.stat(this.env.pid)?.pgid;
    for (const [pid, proc] of tree.procs) {
      if (proc && proc.pgid === pid && proc.pgid !== ownGroup) this.env.kill(-pid, 'SIGKILL');
      this.env.kill(pid, 'SIGKILL');
    }
    return [...tree.procs.keys()];
  }

  /**
   * Resolves once every process of a killed tree is gone (no entry, a zombie, or
   * exiting; the members of the groups it led included), or with the pids still
   * running after `deadlineMs`. SIGKILL is asynchronous: on a busy machine a
   * killed process can be seen running for a while after the signal was sent.
   */
  async waitGone(tree: FrozenTree, deadlineMs: number, pollMs = 10): Promise<number[]> {
    const groups = new Set([...tree.procs].filter(([pid, proc]) => proc?.pgid === pid).map(([pid]) => pid));
    const deadline = this.env.now() + deadlineMs;
    for (;;) {
      let table: Map<number, ProcStat> | undefined;
      try {
        table = this.table();
      } catch {
        table = undefined; // not known yet: look again until the deadline
      }
      // Without a listing, each frozen pid on its own (still unknown when that fails too).
      const running = table === undefined ? [...tree.procs.keys()].filter((pid) => {
        const stat = tryStat(this.env, pid);
        return stat === null || !isGone(stat, tree.procs.get(pid)?.startTime);
      }).map((pid) => ({ pid })) : [...table.values()].filter((proc) => {
        if (proc.pid === this.env.pid || isGone(proc)) return false;
        const known = tree.procs.get(proc.pid);
        if (tree.procs.has(proc.pid)) return known === undefined || known.startTime === proc.startTime;
        return groups.has(proc.pgid);
      });
      if (running.length === 0 || this.env.now() >= deadline) return running.map((proc) => proc.pid);
      await new Promise<void>((resolve) => this.env.setTimer(resolve, pollMs));
    }
  }

  /** Processes under `roots` (roots included when alive), calling `visit` on each as it is found. */
  private walk(roots: number[], seen: Set<number>, visit: (pid: number) => void): ProcStat[] {
    const table = this.table();
    const children = new Map<number, ProcStat[]>();
    for (const proc of table.values()) children.set(proc.ppid, [...(children.get(proc.ppid) ?? []), proc]);
    return this.descend(roots.flatMap((pid) => table.get(pid) ?? []), roots, (pid) => children.get(pid) ?? [], seen, visit);
  }

  /** `found` plus every process below `roots` by `childrenOf`, each unseen one passed to `visit` as it is found. */
  private descend(found: ProcStat[], roots: number[], childrenOf: (pid: number) => ProcStat[], seen: Set<number>, visit: (pid: number) => void): ProcStat[] {
    const out = [...found];
    const stack = [...roots];
    while (stack.length > 0) {
      for (const child of childrenOf(stack.pop() as number)) {
        if (seen.has(child.pid)) continue;
        seen.add(child.pid);
        visit(child.pid);
        out.push(child);
        stack.push(child.pid);
      }
    }
    return out;
  }

  /** Every process /proc shows; throws when /proc cannot be listed (this process at its fd limit). */
  private table(): Map<number, ProcStat> {
    const table = new Map<number, ProcStat>();
    for (const pid of this.env.listPids()) {
      const proc = this.stat(pid);
      if (proc) table.set(pid, proc);
    }
    return table;
  }

  private stat(pid: number): ProcStat | undefined {
    return tryStat(this.env, pid) ?? undefined;
  }
}
