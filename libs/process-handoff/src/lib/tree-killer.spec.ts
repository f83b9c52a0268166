import { FakeEnvironment } from '../../test-support/fake-environment';
import { parseStat } from './proc-stat';
import { TreeKiller } from './tree-killer';

/** Our process 100 (group 100), successor 200 in our group, its node child 201, a detached Chromium 300 with a renderer 301. */
function tree(): FakeEnvironment {
  const env = new FakeEnvironment();
  env.procs.set(200, { ppid: 100, pgid: 100 });
  env.procs.set(201, { ppid: 200, pgid: 100 });
  env.procs.set(300, { ppid: 200, pgid: 300 });
  env.procs.set(301, { ppid: 300, pgid: 300 });
  env.procs.set(999, { ppid: 1, pgid: 999 }); // unrelated
  return env;
}

describe('parseStat', () => {
  it('reads the fields after the last parenthesis, so a command name with spaces and parentheses does not shift them', () => {
    const fields = ['S', '7', '9', '0', '0', '0', '4194560', ...Array.from({ length: 12 }, () => '0'), '4242', '0'];
    expect(parseStat(12, `12 (a) b (c)) ${fields.join(' ')}`)).toEqual({ pid: 12, comm: 'a) b (c)', ppid: 7, pgid: 9, state: 'S', startTime: 4242, flags: 4194560, exitCode: undefined });
    expect(parseStat(12, 'garbage')).toBeUndefined();
  });
});

describe('TreeKiller', () => {
  it('stops every process of the tree before killing any, then kills them all and the detached group', () => {
    const env = tree();
    const killed = new TreeKiller(env).kill(200);
    expect(killed.sort()).toEqual([200, 201, 300, 301]);
    const firstKill = env.signals.findIndex(([, s]) => s === 'SIGKILL');
    expect(env.signals.slice(0, firstKill).map(([pid]) => pid).sort()).toEqual([200, 201, 300, 301]);
    expect(env.signals.filter(([, s]) => s === 'SIGKILL').map(([pid]) => pid)).toContain(-300);
    expect([...env.procs.keys()].sort()).toEqual([100, 999]);
  });

  it('never signals its own process or its own process group', () => {
    const env = tree();
    new TreeKiller(env).kill(200);
    expect(env.signals.map(([pid]) => pid)).not.toContain(100);
    expect(env.signals.map(([pid]) => pid)).not.toContain(-100);
  });

  it('remembers the subtree by its children files, without a walk of the whole table; by the table where there are none', () => {
    for (const childrenFiles of [true, false]) {
      const env = tree();
      env.childrenFiles = childrenFiles;
      const killer = new TreeKiller(env);
      killer.remember(200);
      expect(env.tableReads).toBe(childrenFiles ? 0 : 1);
      // The successor dies: its remembered descendants are killed all the same.
      env.procs.delete(200);
      env.procs.set(201, { ppid: 1, pgid: 100 });
      env.procs.set(300, { ppid: 1, pgid: 300 });
      expect(killer.kill().sort()).toEqual([201, 300, 301]);
      expect(env.procs.has(999)).toBe(true);
    }
  });

  it('kills remembered descendants that outlived the successor, but not a new process that reuses a pid', () => {
    const env = tree();
    const killer = new TreeKiller(env);
    killer.remember(200);
    // The successor dies: its children hang off init now; 201 exits and its pid is reused.
    env.procs.delete(200);
    env.procs.set(300, { ppid: 1, pgid: 300 });
    env.procs.set(201, { ppid: 1, pgid: 201, startTime: 99_999 });
    const killed = killer.kill();
    expect(killed.sort()).toEqual([300, 301]);
    expect(env.procs.has(201)).toBe(true);
  });

  it('stillRunning: the remembered descendants with the same start time, leaving out unread the pids the caller knows', () => {
    const env = tree();
    const killer = new TreeKiller(env);
    killer.remember(200);
    env.procs.delete(301);
    env.procs.set(201, { ppid: 1, pgid: 201, startTime: 99_999 }); // exited, its pid reused
    expect(killer.stillRunning()).toEqual([300]);
    const reads: number[] = [];
    const readStat = env.readStat.bind(env);
    env.readStat = (pid) => (reads.push(pid), readStat(pid));
    expect(killer.stillRunning(new Set([300]))).toEqual([]);
    expect(reads).not.toContain(300);
  });

  it('remembers the subtree one process per turn of the event loop, and kills what it remembered', async () => {
    const env = tree();
    const read: number[] = [];
    const listChildren = env.listChildren.bind(env);
    env.listChildren = (pid: number) => {
      read.push(pid);
      return listChildren(pid);
    };
    const killer = new TreeKiller(env);
    const walk = killer.rememberStepwise(200);
    // Before the first turn: the successor's and its first child's children files only.
    expect(read).toEqual([200, 201]);
    await walk;
    expect(read.sort()).toEqual([200, 201, 300, 301]);
    expect(env.tableReads).toBe(0);
    env.procs.delete(200);
    env.procs.set(201, { ppid: 1, pgid: 100 });
    env.procs.set(300, { ppid: 1, pgid: 300 });
    expect(killer.kill().sort()).toEqual([201, 300, 301]);
  });

  it('stops a stepwise walk when asked, and walks the table at once where there are no children files', async () => {
    const env = tree();
    let stop = false;
    const killer = new TreeKiller(env);
    const walk = killer.rememberStepwise(200, () => stop);
    stop = true;
    await walk;
    // Only what the first turn found (201) is remembered: the successor dies, and 300 hangs off init unseen.
    env.procs.delete(200);
    env.procs.set(201, { ppid: 1, pgid: 100 });
    env.procs.set(300, { ppid: 1, pgid: 300 });
    expect(killer.kill().sort()).toEqual([201]);

    const noFiles = tree();
    noFiles.childrenFiles = false;
    const byTable = new TreeKiller(noFiles);
    await byTable.rememberStepwise(200);
    expect(noFiles.tableReads).toBe(1);
  });
});
