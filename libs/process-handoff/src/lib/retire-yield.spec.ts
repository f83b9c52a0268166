import { FakeEnvironment, successorEnvironment } from '../../test-support/fake-environment';
import { waitFor } from '../../test-support/fixture-process';
import { closeServers, predecessorSetup, settle, type LogLine } from '../../test-support/upgrader-setup';
import { isToPredecessor, isToSuccessor } from './handoff-messages';
import { retirementTargets } from './start-yield';
import { Upgrader } from './upgrader';
import type { UpgraderOptions } from './upgrader-options';

// A retiring predecessor offers its children (not itself, not the successor) to the
// successor, which stops them while it holds yieldStart() (retireYield): the protocol on
// the fake environment. The real signals are in retire-yield.process.spec.ts.

/** The predecessor 100 with a browser group 300 (and its renderer 301), a plain child 400 (with 401), and the successor it spawns. */
function withChildren(env = new FakeEnvironment()): FakeEnvironment {
  env.procs.set(300, { ppid: 100, pgid: 300 });
  env.procs.set(301, { ppid: 300, pgid: 300 });
  env.procs.set(400, { ppid: 100, pgid: 100 });
  env.procs.set(401, { ppid: 400, pgid: 100 });
  env.files.set('/proc/400/task/400/children', '401');
  return env;
}

describe('retirementTargets', () => {
  it('offers a child leading its own group as the group, any other child with its whole tree, and never the successor', () => {
    const env = withChildren();
    env.procs.set(200, { ppid: 100, pgid: 200 }); // a detached successor leads a group too
    env.procs.set(402, { ppid: 401, pgid: 100 });
    expect(retirementTargets(env, 100, 200)).toEqual([-300, 400, 401, 402]);
    expect(retirementTargets(env, 100, 200, 2)).toEqual([-300, 400]);
  });

  it('never offers the tree of a child passed on to the successor (a browser whose pipe it took over)', () => {
    const env = withChildren();
    env.procs.set(402, { ppid: 401, pgid: 100 });
    expect(retirementTargets(env, 100, 200, 256, [400])).toEqual([-300]);
    expect(retirementTargets(env, 100, 200, 256, [300])).toEqual([400, 401, 402]);
  });

  it('reads the main threads\' children files where the kernel lists no other, and skips what is gone', () => {
    const env = withChildren();
    env.childrenFiles = false;
    env.files.set('/proc/100/task/100/children', '200 300 400 999 ');
    expect(retirementTargets(env, 100, 200)).toEqual([-300, 400, 401]);
  });

  it('offers nothing without children but the successor', () => {
    const env = new FakeEnvironment();
    expect(retirementTargets(env, 100, 200)).toEqual([]);
    env.procs.set(200, { ppid: 100, pgid: 100 });
    expect(retirementTargets(env, 100, 200)).toEqual([]);
  });
});

describe('the retiring message', () => {
  it('carries process and group ids, and never 0, 1 or -1 (kill(2) would reach every process)', () => {
    expect(isToSuccessor({ type: 'retiring', targets: [-300, 400] })).toBe(true);
    expect(isToSuccessor({ type: 'retiring', targets: [] })).toBe(true);
    for (const bad of [[-1], [0], [1], ['300'], [1.5]]) expect(isToSuccessor({ type: 'retiring', targets: bad })).toBe(false);
    expect(isToSuccessor({ type: 'retiring' })).toBe(false);
  });

  it('is answered by work reports that say busy or not, and nothing else', () => {
    expect(isToPredecessor({ type: 'work', busy: true })).toBe(true);
    expect(isToPredecessor({ type: 'work', busy: false })).toBe(true);
    for (const bad of [{ type: 'work' }, { type: 'work', busy: 'yes' }, { type: 'work', busy: 1 }]) expect(isToPredecessor(bad)).toBe(false);
  });
});

describe('a retirement that yields to the successor\'s work (retireYield)', () => {
  afterEach(closeServers);

  /** A handoff in memory from 100 to its successor, with the predecessor's children as {@link withChildren}. */
  async function handedOver(successorOptions: Partial<UpgraderOptions> = { retireYield: true }) {
    const { env, upgrader } = await predecessorSetup({}, withChildren());
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    const successorEnv = successorEnvironment(env, child);
    const logs: LogLine[] = [];
    const successor = Upgrader.create({ environment: successorEnv, log: (level, message, fields) => logs.push({ level, message, fields }), ...successorOptions });
    await successor.inheritedState(5_000);
    await successor.ready();
    await expect(outcome).resolves.toMatchObject({ ok: true });
    return { env, upgrader, child, successorEnv, successor, logs };
  }

  it('stops the offered targets while work is held and continues them in the reverse order; the predecessor\'s exit ends it with a log line', async () => {
    const { upgrader, child, successorEnv, successor, logs } = await handedOver();
    expect(upgrader.retiring()).toBe(3);
    expect(child.sent.at(-1)).toEqual({ type: 'retiring', targets: [-300, 400, 401] });
    await settle();
    expect(logs.map((l) => l.message)).toContainEqual('predecessor 100 retires: its 3 offered processes or groups stop while this process does work whose latency counts');
    const release = successor.yieldStart();
    expect(successorEnv.signals).toEqual([[-300, 'SIGSTOP'], [400, 'SIGSTOP'], [401, 'SIGSTOP']]);
    release();
    expect(successorEnv.signals.slice(3)).toEqual([[401, 'SIGCONT'], [400, 'SIGCONT'], [-300, 'SIGCONT']]);
    successorEnv.channel?.drop();
    expect(logs).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/^retiring predecessor 100 yielded to this process's work 1 times/), fields: expect.objectContaining({ predecessorPid: 100, stops: 1 }) }));
  });

  it('continues what is stopped when the predecessor\'s channel closes mid-work, and stops nothing after', async () => {
    const { upgrader, successorEnv, successor } = await handedOver();
    upgrader.retiring();
    await settle();
    const release = successor.yieldStart();
    successorEnv.channel?.drop();
    expect(successorEnv.signals.filter(([, s]) => s === 'SIGCONT')).toHaveLength(3);
    release();
    successor.yieldStart();
    expect(successorEnv.signals).toHaveLength(6);
  });

  it('after the predecessor\'s exit, still stops what it offered while any of it runs, and ends once all of it is gone', async () => {
    const { upgrader, successorEnv, successor, logs } = await handedOver();
    for (const [pid, pgid] of [[300, 300], [301, 300], [400, 100], [401, 100]]) successorEnv.procs.set(pid as number, { ppid: 1, pgid: pgid as number });
    upgrader.retiring();
    await settle();
    successorEnv.channel?.drop();
    const release = successor.yieldStart();
    expect(successorEnv.signals).toEqual([[-300, 'SIGSTOP'], [400, 'SIGSTOP'], [401, 'SIGSTOP']]);
    release();
    expect(logs.map((l) => l.message)).not.toContainEqual(expect.stringMatching(/^retiring predecessor/));
    for (const pid of [300, 301, 400, 401]) successorEnv.procs.delete(pid);
    await waitFor('the yield to end once the offered processes are gone', () => logs.find((l) => /^retiring predecessor 100 yielded to this process's work 1 times/.test(l.message)));
    successor.yieldStart();
    expect(successorEnv.signals).toHaveLength(6);
  });

  it('ends at once, continuing what is stopped, when the successor\'s upgrader closes', async () => {
    const { upgrader, successorEnv, successor, logs } = await handedOver();
    for (const pid of [300, 400, 401]) successorEnv.procs.set(pid, { ppid: 1, pgid: 100 });
    upgrader.retiring();
    await settle();
    successor.yieldStart();
    successor.close();
    expect(successorEnv.signals.slice(3)).toEqual([[401, 'SIGCONT'], [400, 'SIGCONT'], [-300, 'SIGCONT']]);
    expect(logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/^retiring predecessor 100 yielded to this process's work 1 times/));
  });

  it('declines the offer without retireYield (the library\'s default): work stops nothing', async () => {
    const { upgrader, successorEnv, successor } = await handedOver({});
    expect(upgrader.retiring()).toBe(3);
    await settle();
    successor.yieldStart();
    expect(successorEnv.signals).toEqual([]);
  });

  it('in the predecessor: continues what it offered once the successor has exited, and offers nothing before a handoff', async () => {
    const before = await predecessorSetup({}, withChildren());
    expect(before.upgrader.retiring()).toBe(0);
    const { env, upgrader, child } = await handedOver();
    upgrader.retiring();
    expect(env.signals).toEqual([]);
    child.exit(null, 'SIGKILL');
    await settle();
    expect(env.signals).toEqual([[-300, 'SIGCONT'], [400, 'SIGCONT'], [401, 'SIGCONT']]);
  });

  /** Whether `promise` has settled after the channels delivered what is in flight. */
  async function settledYet(promise: Promise<unknown>): Promise<boolean> {
    let settled = false;
    void promise.then(() => (settled = true));
    await settle();
    return settled;
  }

  it('paced (offer: false): offers nothing, the successor reports its work, and untilSuccessorIdle waits for the end of it', async () => {
    const { upgrader, child, successorEnv, successor, logs } = await handedOver();
    expect(upgrader.retiring({ offer: false })).toBe(0);
    expect(child.sent.at(-1)).toEqual({ type: 'retiring', targets: [] });
    // Asked, not yet answered: the first wait lasts until the successor's first report (idle), not its bound.
    expect(await upgrader.untilSuccessorIdle(60_000)).toBeLessThan(1_000);
    expect(logs.map((l) => l.message)).toContainEqual("predecessor 100 retires: it lets go of what it holds between this process's work whose latency counts, which this process reports to it");
    const release = successor.yieldStart();
    await settle();
    const idle = upgrader.untilSuccessorIdle(60_000);
    expect(await settledYet(idle)).toBe(false);
    const second = successor.yieldStart(); // more work: still busy when the first ends
    release();
    expect(await settledYet(idle)).toBe(false);
    second();
    expect(await settledYet(idle)).toBe(true);
    expect(await upgrader.untilSuccessorIdle(60_000)).toBe(0);
    expect(successorEnv.signals).toEqual([]); // nothing offered, nothing stopped
  });

  it('paced: a wait ends at its bound while the work goes on, and at once when the successor exits', async () => {
    const { upgrader, child, successor } = await handedOver();
    upgrader.retiring({ offer: false });
    await settle();
    successor.yieldStart();
    await settle();
    const bounded = await upgrader.untilSuccessorIdle(30);
    expect(bounded).toBeGreaterThanOrEqual(25);
    const open = upgrader.untilSuccessorIdle(60_000);
    expect(await settledYet(open)).toBe(false);
    child.exit(null, 'SIGKILL');
    expect(await settledYet(open)).toBe(true);
    expect(await upgrader.untilSuccessorIdle(60_000)).toBe(0);
  });

  it('paced: a successor that does not report (no retireYield) costs one bounded wait, then none; before a handoff there is none', async () => {
    const before = await predecessorSetup({}, withChildren());
    expect(await before.upgrader.untilSuccessorIdle(60_000)).toBe(0);
    const { upgrader, successor } = await handedOver({});
    upgrader.retiring({ offer: false });
    successor.yieldStart();
    await settle();
    expect(await upgrader.untilSuccessorIdle(30)).toBeGreaterThanOrEqual(25);
    expect(await upgrader.untilSuccessorIdle(60_000)).toBe(0);
  });

  it('refuses bounds that are not bounds, naming the option', async () => {
    await expect(predecessorSetup({ retireYield: { maxStopMs: -5 } })).rejects.toThrow('process-handoff: retireYield.maxStopMs must be a positive integer, got -5');
    await expect(predecessorSetup({ retireYield: 'on' as unknown as boolean })).rejects.toThrow('process-handoff: retireYield must be true, false or { maxStopMs, maxShare }, got on');
  });
});
