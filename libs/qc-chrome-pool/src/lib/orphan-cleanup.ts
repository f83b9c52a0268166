import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromeProcsOf, isAlive, listProcs } from './proc-tree';
import { removeProfile } from './profile-dir';

/** Prefix of every temporary Chrome profile the pool creates: `<prefix><ownerPid>-<random>`. */
export const PROFILE_PREFIX = 'edu-agents-qc-';

export interface OrphanCleanupDeps {
  tmpDir: string;
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
  listChromeProcs: (profileDir: string) => { pid: number; pgid: number }[];
  removeDir: (dir: string) => void;
}

export const defaultOrphanCleanupDeps = (): OrphanCleanupDeps => ({
  tmpDir: tmpdir(),
  isAlive: (pid) => isAlive(pid),
  kill: (pid, signal) => process.kill(pid, signal),
  listChromeProcs: (dir) => chromeProcsOf(dir, undefined, listProcs()),
  removeDir: (dir) => removeProfile(dir),
});

export interface OrphanCleanupResult {
  removedDirs: string[];
  killedPids: number[];
}

/**
 * Removes profile dirs left by crashed runs of this service (owner pid no longer alive)
 * and kills the Chrome processes still using them, by process group and by pid.
 * A dir whose owner pid is alive (another instance, or this process) is left alone.
 */
export function cleanupOrphans(
  deps: OrphanCleanupDeps = defaultOrphanCleanupDeps(),
  log?: (message: string, fields: Record<string, unknown>) => void,
): OrphanCleanupResult {
  const result: OrphanCleanupResult = { removedDirs: [], killedPids: [] };
  for (const name of readdirSync(deps.tmpDir)) {
    const match = new RegExp(`^${PROFILE_PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    const owner = Number(match[1]);
    if (owner === process.pid || deps.isAlive(owner)) continue;
    const dir = join(deps.tmpDir, name);
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
  if (result.removedDirs.length > 0) log?.('cleaned up leftovers of an earlier QC pool run', { ...result });
  return result;
}
