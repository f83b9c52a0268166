import { waitFor } from '../../test-support/fixture-process';
import { closeServers, predecessorSetup, settle } from '../../test-support/upgrader-setup';
import { FakeEnvironment } from '../../test-support/fake-environment';
import { HANDOFF_ENV } from './inheritance';
import { mainThreadTree, StartYield, YieldGate, type StartYieldBounds } from './start-yield';

/** A clock and timers the test moves by hand, and the signals sent. */
class ManualEnv {
  at = 0;
  readonly signals: string[] = [];
  private timers = new Map<number, { due: number; fn: () => void }>();
  private nextId = 1;

  now(): number {
    return this.at;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { due: this.at + ms, fn });
    return id;
  }

  clearTimer(id: unknown): void {
    this.timers.delete(id as number);
  }

  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.signals.push(`${signal} ${pid}`);
    return true;
  }

  /** Moves the clock, running each timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.at + ms;
    for (;;) {
      const next = [...this.timers].filter(([, t]) => t.due <= end).sort((a, b) => a[1].due - b[1].due)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.at = next[1].due;
      next[1].fn();
    }
    this.at = end;
  }

  take(): string[] {
    return this.signals.splice(0);
  }
}

const BOUNDS: StartYieldBounds = { maxStopMs: 250, maxShare: 0.5 };

function setup(members = [300, 301, 302]) {
  const env = new ManualEnv();
  const gate = new YieldGate();
  const yielding = new StartYield(env, gate, () => members, BOUNDS);
  return { env, gate, yielding };
}

describe('StartYield: a start stopped while the predecessor renders', () => {
  it('stops the successor first and its tree after, and continues them in the reverse order when the work ends', () => {
    const { env, gate, yielding } = setup();
    env.advance(1_000);
    const release = gate.hold();
    expect(env.take()).toEqual(['SIGSTOP 300', 'SIGSTOP 301', 'SIGSTOP 302']);
    env.advance(40);
    release();
    expect(env.take()).toEqual(['SIGCONT 302', 'SIGCONT 301', 'SIGCONT 300']);
    expect(yielding.end()).toEqual({ stops: 1, stoppedMs: 40, longestMs: 40, cut: 0 });
    expect(env.take()).toEqual([]);
  });

  it('stops once for overlapping work, and continues only when none is left', () => {
    const { env, gate } = setup([300]);
    env.advance(1_000);
    const a = gate.hold();
    const b = gate.hold();
    expect(env.take()).toEqual(['SIGSTOP 300']);
    a();
    a(); // a second call of the same release counts nothing
    expect(env.take()).toEqual([]);
    b();
    expect(env.take()).toEqual(['SIGCONT 300']);
  });

  it('continues a stop at maxStopMs and does not stop again until the work that outlasted it ended', () => {
    const { env, gate, yielding } = setup([300]);
    env.advance(10_000);
    const release = gate.hold();
    env.advance(249);
    expect(env.take()).toEqual(['SIGSTOP 300']);
    env.advance(1);
    expect(env.take()).toEqual(['SIGCONT 300']);
    const other = gate.hold(); // more work while the long one runs: still no stop
    other();
    env.advance(1_000);
    expect(env.take()).toEqual([]);
    release();
    gate.hold();
    expect(env.take()).toEqual(['SIGSTOP 300']);
    expect(yielding.end()).toMatchObject({ stops: 2, cut: 1, longestMs: 250 });
    expect(env.take()).toEqual(['SIGCONT 300']);
  });

  it('keeps the stopped time within maxShare of the start (plus one stop), however much work there is', () => {
    const { env, gate, yielding } = setup([300]);
    // Work back to back from the spawn on: each piece 200 ms with 10 ms between.
    for (let i = 0; i < 50; i += 1) {
      const release = gate.hold();
      env.advance(200);
      release();
      env.advance(10);
    }
    const { stoppedMs, stops } = yielding.end();
    const elapsed = env.now();
    expect(stoppedMs).toBeLessThanOrEqual(BOUNDS.maxShare * elapsed + BOUNDS.maxStopMs);
    expect(stoppedMs).toBeGreaterThan(0.4 * elapsed); // it still yields about as much as it may
    expect(stops).toBeGreaterThan(10);
  });

  it('stops at once when the work began before the spawn, and end() continues a tree still stopped and follows the gate no more', () => {
    const env = new ManualEnv();
    const gate = new YieldGate();
    gate.hold();
    const yielding = new StartYield(env, gate, () => [300], BOUNDS);
    expect(env.take()).toEqual(['SIGSTOP 300']);
    env.advance(100);
    yielding.end();
    expect(env.take()).toEqual(['SIGCONT 300']);
    const again = gate.hold();
    again();
    env.advance(1_000);
    expect(env.take()).toEqual([]);
  });

  it('sends nothing while the successor cannot be stopped yet, and stops it shortly after it can when the work is still held', () => {
    const env = new ManualEnv();
    const gate = new YieldGate();
    let members: number[] = [];
    const yielding = new StartYield(env, gate, () => members, BOUNDS);
    gate.hold()();
    env.advance(100);
    expect(env.take()).toEqual([]);
    const release = gate.hold();
    env.advance(20);
    expect(env.take()).toEqual([]);
    members = [300];
    env.advance(5);
    expect(env.take()).toEqual(['SIGSTOP 300']);
    release();
    expect(env.take()).toEqual(['SIGCONT 300']);
    expect(yielding.end().stops).toBe(1);
  });
});

describe('mainThreadTree', () => {
  it('follows each process\'s main-thread children file, skips what is gone, and stops at the limit', () => {
    const files = new Map([
      ['/proc/300/task/300/children', '301 302 '],
      ['/proc/301/task/301/children', '303'],
      ['/proc/303/task/303/children', '301 304'],
    ]);
    const env = { readText: (path: string) => files.get(path) };
    expect(mainThreadTree(env, 300)).toEqual([300, 301, 302, 303, 304]);
    expect(mainThreadTree(env, 300, 3)).toEqual([300, 301, 302]);
    expect(mainThreadTree(env, 999)).toEqual([999]);
  });
});

describe('an upgrader whose successor start yields (startYield)', () => {
  afterEach(closeServers);

  it('starts the successor through setpriv --pdeathsig CONT, tells it, stops it (once it runs node) while work is held and logs what it did', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ startYield: true });
    void upgrader.upgrade();
    const child = env.lastChild;
    expect(child.request.command).toBe('/usr/bin/setpriv');
    expect(child.request.args.slice(0, 4)).toEqual(['--pdeathsig', 'CONT', '--', env.execPath]);
    expect(JSON.parse(child.request.env[HANDOFF_ENV] as string)).toMatchObject({ yields: true });
    const pid = child.pid as number;
    const work = upgrader.yieldStart();
    // Still setpriv (its comm is not node yet): stopped there, it would have no parent-death signal.
    expect(env.signals).toEqual([]);
    (env.procs.get(pid) as { comm?: string }).comm = 'node';
    await waitFor('the held work to stop the successor once it runs node', () => env.signals.length > 0);
    expect(env.signals).toEqual([[pid, 'SIGSTOP']]);
    work();
    expect(env.signals).toEqual([[pid, 'SIGSTOP'], [pid, 'SIGCONT']]);
    child.says({ type: 'hello', pid });
    await Promise.resolve();
    child.says({ type: 'ready' });
    await Promise.resolve();
    expect(logs.map((l) => l.message)).toContainEqual(expect.stringMatching(new RegExp(`^successor ${pid} yielded to this process's work 1 times`)));
    upgrader.close();
  });

  it('begins the successor once the work in flight at the upgrade ended: its exec and first milliseconds cannot be stopped', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ startYield: true });
    const render = upgrader.yieldStart();
    void upgrader.upgrade();
    await settle();
    expect(env.children).toHaveLength(0);
    render();
    expect(env.children).toHaveLength(1);
    expect(env.lastChild.request.command).toBe('/usr/bin/setpriv');
    expect(logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/^the successor starts after this process's work in flight \(waited \d+ ms\)$/));
    upgrader.close();
  });

  it('waits for work in flight one stop\'s bound at most, and a cancelled upgrade spawns nothing and ends its prepared process', async () => {
    const { env, upgrader } = await predecessorSetup({ startYield: { maxStopMs: 40 } });
    upgrader.yieldStart(); // work that does not end
    const began = Date.now();
    void upgrader.upgrade();
    await waitFor('the spawn at the bound', () => env.children.length === 1);
    expect(Date.now() - began).toBeGreaterThanOrEqual(30);
    upgrader.close();

    const second = await predecessorSetup({ startYield: { maxStopMs: 60_000 }, prepareSuccessor: true });
    const [prepared] = second.env.prepared;
    second.upgrader.yieldStart();
    const outcome = second.upgrader.upgrade();
    await second.upgrader.cancel('stopping');
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'cancelled' });
    expect(second.env.children).toHaveLength(0);
    // The process forked ahead holds the listening sockets: it ends with the cancelled upgrade.
    expect(prepared).toMatchObject({ launched: false, discarded: true });
    second.upgrader.close();
  });

  it('does not yield where setpriv is missing, and says why', async () => {
    const env = new FakeEnvironment();
    for (const path of ['/usr/bin/setpriv', '/bin/setpriv']) env.missing.add(path);
    const { upgrader, logs } = await predecessorSetup({ startYield: true }, env);
    upgrader.yieldStart();
    void upgrader.upgrade();
    expect(env.lastChild.request.command).toBe(env.execPath);
    expect(JSON.parse(env.lastChild.request.env[HANDOFF_ENV] as string)).not.toHaveProperty('yields');
    expect(env.signals).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/cannot yield .*setpriv \(util-linux\) is neither on PATH/) }));
    upgrader.close();
  });

  it('is off by default: no setpriv, no signal', async () => {
    const { env, upgrader } = await predecessorSetup();
    upgrader.yieldStart();
    void upgrader.upgrade();
    expect(env.lastChild.request.command).toBe(env.execPath);
    expect(env.signals).toEqual([]);
    upgrader.close();
  });

  it('refuses bounds that are not bounds, naming the option', async () => {
    await expect(predecessorSetup({ startYield: { maxStopMs: 0 } })).rejects.toThrow('process-handoff: startYield.maxStopMs must be a positive integer, got 0');
    await expect(predecessorSetup({ startYield: { maxShare: 1.5 } })).rejects.toThrow('process-handoff: startYield.maxShare must be a number above 0 and at most 1, got 1.5');
    await expect(predecessorSetup({ startYield: 'yes' as unknown as boolean })).rejects.toThrow('process-handoff: startYield must be true, false or { maxStopMs, maxShare }, got yes');
  });
});
