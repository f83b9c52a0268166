import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupOrphans, rememberSingletons, type OrphanCleanupDeps } from './orphan-cleanup';
import { profileOwner, writeProfileOwner } from './profile-dir';

describe('cleanupOrphans', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orphan-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes dirs of dead owners, kills their Chrome by group and pid, and leaves live owners alone', () => {
    for (const name of ['edu-agents-qc-111-aaa', 'edu-agents-qc-222-bbb', 'other-thing']) mkdirSync(join(dir, name));
    const kills: [number, string][] = [];
    const removed: string[] = [];
    const deps: OrphanCleanupDeps = {
      tmpDir: dir,
      isAlive: (pid) => pid === 222,
      kill: (pid, signal) => kills.push([pid, signal]),
      listChromeProcs: (profile) =>
        profile.endsWith('111-aaa') ? [{ pid: 500, pgid: 500 }, { pid: 501, pgid: 500 }, { pid: 502, pgid: 9 }] : [],
      removeDir: (d) => removed.push(d),
    };
    const result = cleanupOrphans(deps);
    expect(removed).toEqual([join(dir, 'edu-agents-qc-111-aaa')]);
    expect(result.killedPids).toEqual([500, 501, 502]);
    // a process that does not lead its own group is killed alone, never its (foreign) group
    expect(kills).toEqual([[-500, 'SIGKILL'], [500, 'SIGKILL'], [501, 'SIGKILL'], [502, 'SIGKILL']]);
  });

  it('remembers the singleton directories of an owner\'s profiles while their links exist, and removes those of dead owners after the links went', () => {
    // Two owners, each with a profile linked to a singleton directory, as Chrome lays them out.
    const singleton = (owner: number, id: string) => {
      const profile = join(dir, `edu-agents-qc-${owner}-${id}`);
      const socketDir = join(dir, `org.chromium.Chromium.${id}`);
      mkdirSync(profile);
      mkdirSync(socketDir);
      writeFileSync(join(socketDir, 'SingletonSocket'), '');
      symlinkSync(join(socketDir, 'SingletonSocket'), join(profile, 'SingletonSocket'));
      return { profile, socketDir };
    };
    const dead = singleton(111, 'aaa');
    const live = singleton(222, 'bbb');
    const remembered = [...rememberSingletons(111, dir), ...rememberSingletons(222, dir)];
    expect(remembered).toEqual([{ owner: 111, dir: dead.socketDir }, { owner: 222, dir: live.socketDir }]);
    // The dead owner's Chrome removed its profile's link (and was killed before it removed its directory).
    rmSync(join(dead.profile, 'SingletonSocket'));
    const deps: OrphanCleanupDeps = { tmpDir: dir, isAlive: (pid) => pid === 222, kill: () => undefined, listChromeProcs: () => [], removeDir: (d) => rmSync(d, { recursive: true }) };
    const result = cleanupOrphans(deps, undefined, remembered);
    expect(result).toEqual({ removedDirs: [dead.profile], killedPids: [], removedSingletons: [dead.socketDir] });
    expect([existsSync(dead.socketDir), existsSync(live.socketDir), existsSync(live.profile)]).toEqual([false, true, true]);
    // Nothing left to remove: a second run says so by removing nothing.
    expect(cleanupOrphans(deps, undefined, remembered).removedSingletons).toEqual([]);
  });

  it('leaves a profile alone whose Chromium a live process took over, though its launcher is gone, with the singleton directory inside it', () => {
    const profile = join(dir, 'edu-agents-qc-111-aaa');
    const inside = join(profile, 't', 'org.chromium.Chromium.aaa');
    mkdirSync(inside, { recursive: true });
    writeProfileOwner(profile, 333);
    expect(profileOwner(profile, 111)).toBe(333);
    const kills: number[] = [];
    const deps: OrphanCleanupDeps = {
      tmpDir: dir, isAlive: (pid) => pid === 333, kill: (pid) => kills.push(pid), listChromeProcs: () => [{ pid: 500, pgid: 1 }],
      removeDir: (d) => rmSync(d, { recursive: true }), ownerOf: profileOwner,
    };
    expect(cleanupOrphans(deps, undefined, [{ owner: 111, dir: inside }])).toEqual({ removedDirs: [], killedPids: [], removedSingletons: [] });
    expect([kills, existsSync(inside)]).toEqual([[], true]);
    // Once that process is gone too, the profile and its Chromium go.
    expect(cleanupOrphans({ ...deps, isAlive: () => false }).removedDirs).toEqual([profile]);
    expect(kills).toEqual([500]);
  });
});
