import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupOrphans, type OrphanCleanupDeps } from './orphan-cleanup';

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
});
