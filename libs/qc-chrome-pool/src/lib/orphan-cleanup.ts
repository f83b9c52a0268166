import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromeProcsOf, isAlive, listProcs } from './proc-tree';
import { profileOwner, removeProfile, singletonDirOf } from './profile-dir';

/** Prefix of every temporary Chrome profile the pool creates: `<prefix><ownerPid>-<random>`. */
export const PROFILE_PREFIX = 'edu-agents-qc-';

export interface OrphanCleanupDeps {
  tmpDir: string;
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
  listChromeProcs: (profileDir: string) => { pid: number; pgid: number }[];
  /** Removes a profile (with its singleton directory) or a remembered singleton directory. */
  removeDir: (dir: string) => void;
  /** Who holds a profile's Chromium: the pid in its name, unless another process took it over since (profileOwner). */
  ownerOf?: (profileDir: string, launcher: number) => number;
}

export const defaultOrphanCleanupDeps = (): OrphanCleanupDeps => ({
  tmpDir: tmpdir(),
  isAlive: (pid) => isAlive(pid),
  kill: (pid, signal) => process.kill(pid, signal),
  listChromeProcs: (dir) => chromeProcsOf(dir, undefined, listProcs()),
  removeDir: (dir) => removeProfile(dir),
  ownerOf: (dir, launcher) => profileOwner(dir, launcher),
});

export interface OrphanCleanupResult {
  removedDirs: string[];
  killedPids: number[];
  /** Remembered singleton directories of dead owners that were still there. */
  removedSingletons: string[];
}

/** A singleton directory of a profile of `owner`, read while its Chrome ran. */
export interface RememberedSingleton {
  owner: number;
  dir: string;
}

/**
 * The singleton directories the profiles of `owner` link to now. A Chrome that shuts itself
 * down (its pipe closed when its owner was killed) removes the profile's `SingletonSocket`
 * link first and its directory in `$TMPDIR` last; killed in between, it leaves a directory no
 * profile names any more. Read while the owner lives, and passed to {@link cleanupOrphans}
 * after it died, they go too. The pool now gives Chrome a `$TMPDIR` inside its profile
 * (profileTmpDir), so this is for an owner of an earlier build, and for a temporary directory
 * whose path is too long for that.
 */
export function rememberSingletons(owner: number, tmpDir = tmpdir()): RememberedSingleton[] {
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(`${PROFILE_PREFIX}${owner}-`))
    .flatMap((name) => {
      const dir = singletonDirOf(join(tmpDir, name));
      return dir === undefined ? [] : [{ owner, dir }];
    });
}

/**
 * Removes profile dirs left by crashed runs of this service (owner pid no longer alive)
 * and kills the Chrome processes still using them, by process group and by pid.
 * A dir whose owner pid is alive (another instance, or this process) is left alone.
 * `remembered` singleton directories ({@link rememberSingletons}) of owners that are gone
 * are removed too, after their Chrome was killed.
 */
export function cleanupOrphans(
  deps: OrphanCleanupDeps = defaultOrphanCleanupDeps(),
  log?: (message: string, fields: Record<string, unknown>) => void,
  remembered: readonly RememberedSingleton[] = [],
): OrphanCleanupResult {
  const result: OrphanCleanupResult = { removedDirs: [], killedPids: [], removedSingletons: [] };
  const gone = (owner: number) => owner !== process.pid && !deps.isAlive(owner);
  /** Profiles a live process holds, though another launched them: their singleton directories stay too. */
  const held: string[] = [];
  for (const name of readdirSync(deps.tmpDir)) {
    const match = new RegExp(`^${PROFILE_PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    const dir = join(deps.tmpDir, name);
    const launcher = Number(match[1]);
    const owner = deps.ownerOf?.(dir, launcher) ?? launcher;
    if (!gone(owner)) {
      if (owner !== launcher) held.push(dir);
      continue;
    }
    for (const proc of deps.listChromeProcs(dir)) {
      // Only a group leader's group is ours to kill (puppeteer starts Chrome detached).
      const targets = proc.pgid === proc.pid ? [-proc.pgid, proc.pid] : [proc.pid];
      for (const target of targets) {
        try {
          deps.kill(target, 'SIGKILL');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
      result.killedPids.push(proc.pid);
    }
    deps.removeDir(dir);
    result.removedDirs.push(dir);
  }
  for (const { owner, dir } of remembered) {
    if (!gone(owner) || !existsSync(dir) || held.some((profile) => dir.startsWith(`${profile}/`))) continue;
    deps.removeDir(dir);
    result.removedSingletons.push(dir);
  }
  if (result.removedDirs.length + result.removedSingletons.length > 0) log?.('cleaned up leftovers of an earlier QC pool run', { ...result });
  return result;
}
