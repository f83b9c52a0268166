import { accessSync, constants, readdirSync, statSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { YieldGate } from './start-yield';
import type { HandoffLog } from './upgrader-options';

/**
 * Instances of one service on one host, each with its own handoff, that share a directory
 * (`yieldDir`): each says there when it does work whose latency counts, and each follows the
 * others' work as if it were its own. A start stops for its own process's renders
 * (`startYield`); without this it ran beside the other instance's renders, which in a rolling
 * restart behind nginx then took up to 1.8 times their steady median (tools/bench/README.md,
 * "The other instance's renders").
 *
 * The file `<pid>.busy` exists while process `<pid>` does such work, once it serves (a
 * successor's warm-up before its ready does not count). Each process watches the directory
 * (inotify: no polling) and holds its `follow` gate while a live process other than itself,
 * its predecessor and its successor has such a file. A file left by a process that died is
 * ignored and removed (a process also removes a file of its own pid at its start: an earlier
 * process with that pid died mid-work). The yields' own bounds hold: one stop lasts
 * at most `maxStopMs`, a start is stopped at most `maxShare` of its time.
 */
export class PeerYield {
  private readonly file: string;
  private readonly unsubscribe: () => void;
  private watcher: FSWatcher | undefined;
  /** Our hold on `follow` while another process's work is in flight. */
  private release: (() => void) | undefined;
  private announced = false;
  private broken = false;

  constructor(
    private readonly dir: string,
    private readonly pid: number,
    own: YieldGate,
    private readonly follow: YieldGate,
    private readonly peers: {
      /** Pids whose files do not count: this process's predecessor and successor. */
      ignored: () => (number | undefined)[];
      alive: (pid: number) => boolean;
      /** Whether this process serves yet: only then is its work announced. */
      serving: () => boolean;
    },
    private readonly log: HandoffLog,
  ) {
    this.file = join(dir, `${pid}.busy`);
    removeIfThere(this.file); // left by a process that had this pid before and died mid-work
    this.unsubscribe = own.subscribe((held) => this.announce(held));
    try {
      // A change to this process's own file changes nothing it follows: no read for it (one per render).
      const own = basename(this.file);
      this.watcher = watch(dir, { persistent: false }, (_event, name) => name !== own && this.look());
      this.watcher.on('error', (error) => this.fail('watch', error));
    } catch (error) {
      this.fail('watch', error as Error);
    }
    this.look();
  }

  /** Stops watching, lets go of the gate and removes this process's file. Idempotent. */
  close(): void {
    this.unsubscribe();
    this.stopFollowing();
    if (this.announced) this.announce(false);
  }

  private stopFollowing(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.release?.();
    this.release = undefined;
  }

  private announce(held: boolean): void {
    if (this.broken || (held && !this.peers.serving())) return;
    try {
      if (held) writeFileSync(this.file, '');
      else if (this.announced) unlinkSync(this.file);
      this.announced = held;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !held) this.announced = false; // removed by somebody else
      else this.fail(held ? 'write' : 'remove', error as Error);
    }
  }

  /** Reads the directory: holds `follow` while another live instance's file is there. */
  private look(): void {
    if (this.broken) return;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      this.fail('read', error as Error);
      return;
    }
    const ignored = new Set(this.peers.ignored());
    let busy = false;
    for (const name of names) {
      const pid = busyPid(name);
      if (pid === undefined || pid === this.pid || ignored.has(pid)) continue;
      if (this.peers.alive(pid)) busy = true;
      else removeIfThere(join(this.dir, name)); // its process died mid-work: nobody else will
    }
    if (busy && this.release === undefined) this.release = this.follow.hold();
    else if (!busy && this.release !== undefined) {
      this.release();
      this.release = undefined;
    }
  }

  /** Once: the directory went away or became unusable; this process yields to its own work only from now on. */
  private fail(what: 'watch' | 'read' | 'write' | 'remove', error: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.stopFollowing();
    this.log('warn', `yield directory ${this.dir}: could not ${what} (${error.message}); this process yields to its own work only from now on`, { yieldDir: this.dir });
  }
}

/** Removes `file` if it is there; any error is left alone (another process removed it, or may not). */
function removeIfThere(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already, or not ours to remove: either way it is looked at again at the next change
  }
}

/** The pid of a `<pid>.busy` file name; undefined for any other name. */
export function busyPid(name: string): number | undefined {
  const match = /^([1-9]\d*)\.busy$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The `yieldDir` option checked at start-up: an absolute path to a directory this process can write. */
export function checkYieldDir(dir: string): string {
  if (!isAbsolute(dir)) throw new Error(`process-handoff: yieldDir must be an absolute path, got '${dir}'`);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    throw new Error(`process-handoff: yieldDir ${dir} cannot be used: ${(error as Error).message}`);
  }
  if (!isDirectory) throw new Error(`process-handoff: yieldDir ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(`process-handoff: yieldDir ${dir} is not writable by this process: ${(error as Error).message}`);
  }
  return dir;
}
