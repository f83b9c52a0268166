import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../test-support/fixture-process';
import { busyPid, checkYieldDir, PeerYield } from './peer-yield';
import { YieldGate } from './start-yield';

// Real files in a real directory, watched through inotify: two PeerYields stand for two instances.

describe('PeerYield: instances that follow each other\'s work through a shared directory', () => {
  let dir: string;
  const open: PeerYield[] = [];
  const logs: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'process-handoff-peers-'));
    logs.length = 0;
  });
  afterEach(() => {
    for (const peer of open.splice(0)) peer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One instance: its own work, what its yields follow, and its view of the others. */
  function instance(pid: number, opts: { serving?: boolean; ignored?: number[]; dead?: number[] } = {}) {
    const own = new YieldGate();
    const follow = new YieldGate();
    const state = { serving: opts.serving ?? true };
    const peer = new PeerYield(dir, pid, own, follow, {
      ignored: () => opts.ignored ?? [],
      alive: (p) => !(opts.dead ?? []).includes(p),
      serving: () => state.serving,
    }, (_level, message) => logs.push(message));
    open.push(peer);
    return { own, follow, peer, state };
  }

  /** Instance 101 following instance 102's work in flight; `release` ends that work. */
  async function aFollowingB() {
    const a = instance(101);
    const b = instance(102);
    const release = b.own.hold();
    await waitFor('a to follow b', () => a.follow.held);
    return { a, b, release };
  }

  it("holds one instance's gate while another's work is in flight, and lets go when it ends", async () => {
    const { a, release } = await aFollowingB();
    expect(readdirSync(dir)).toEqual(['102.busy']);
    release();
    expect(readdirSync(dir)).toEqual([]);
    await waitFor('a to let go', () => !a.follow.held);
  });

  it('does not follow its own work, though its own file is there when it reads the directory', async () => {
    const a = instance(101);
    const b = instance(102);
    b.own.hold();
    const release = a.own.hold();
    await waitFor('b to follow a', () => b.follow.held);
    release();
    await waitFor('b to let go while its own file is there', () => !b.follow.held);
    expect(readdirSync(dir)).toEqual(['102.busy']);
  });

  it('sees work that was in flight before it began to watch', () => {
    const b = instance(102);
    b.own.hold();
    const a = instance(101);
    expect(a.follow.held).toBe(true);
  });

  it('does not announce work before its process serves (a successor warming up), and does once it serves', async () => {
    const a = instance(101);
    const b = instance(102, { serving: false });
    const release = b.own.hold();
    expect(readdirSync(dir)).toEqual([]);
    release();
    b.state.serving = true;
    b.own.hold();
    await waitFor('a to follow b once b serves', () => a.follow.held);
  });

  it("ignores its predecessor's and successor's work, and removes a file whose process is gone", () => {
    writeFileSync(join(dir, '103.busy'), ''); // left by a process that died
    writeFileSync(join(dir, 'notes.txt'), '');
    const b = instance(102);
    b.own.hold();
    // Each reads the directory as it begins: what it follows is known at once, with no event to wait for.
    const a = instance(101, { ignored: [102], dead: [103] });
    expect(a.follow.held).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['102.busy', 'notes.txt']);
    const c = instance(104);
    expect(c.follow.held).toBe(true);
  });

  it('removes, as it starts, a file of its own pid that an earlier process with that pid left', () => {
    writeFileSync(join(dir, '101.busy'), '');
    const b = instance(102);
    expect(b.follow.held).toBe(true);
    b.peer.close();
    instance(101);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes its file on close, and lets go of its gate', async () => {
    const { a, b } = await aFollowingB();
    b.peer.close();
    expect(existsSync(join(dir, '102.busy'))).toBe(false);
    await waitFor('a to let go', () => !a.follow.held);
    a.peer.close();
    b.own.hold(); // after close: nothing written
    expect(readdirSync(dir)).toEqual([]);
  });

  it('yields to its own work only once the directory is gone, and says so', async () => {
    const { a } = await aFollowingB();
    rmSync(dir, { recursive: true, force: true });
    await waitFor('a to notice', () => logs.length > 0);
    expect(a.follow.held).toBe(false);
    expect(logs[0]).toMatch(new RegExp(`^yield directory ${dir}: could not (watch|read) .*; this process yields to its own work only from now on$`));
    mkdirSync(dir);
  });

  it('reads a busy file name as its pid, and nothing else', () => {
    expect(busyPid('4242.busy')).toBe(4242);
    expect([busyPid('0.busy'), busyPid('x.busy'), busyPid('4242.busy.tmp'), busyPid('4242')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('refuses a yieldDir that is relative, missing or not a directory, naming it', () => {
    expect(() => checkYieldDir('run/edu')).toThrow("process-handoff: yieldDir must be an absolute path, got 'run/edu'");
    expect(() => checkYieldDir(join(dir, 'missing'))).toThrow(`process-handoff: yieldDir ${join(dir, 'missing')} cannot be used: ENOENT`);
    writeFileSync(join(dir, 'file'), '');
    expect(() => checkYieldDir(join(dir, 'file'))).toThrow(`process-handoff: yieldDir ${join(dir, 'file')} is not a directory`);
    expect(checkYieldDir(dir)).toBe(dir);
  });
});
