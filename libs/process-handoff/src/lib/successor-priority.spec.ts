import { createServer } from 'node:net';
import { successorEnvironment } from '../../test-support/fake-environment';
import { closeServers, predecessorSetup } from '../../test-support/upgrader-setup';
import { HANDOFF_ENV } from './inheritance';
import type { ProcessEnvironment } from './process-environment';
import { parseAutogroupNice, QUICK_SUCCESSOR_ESCAPE, watchStarvedSuccessor } from './successor-priority';
import { Upgrader } from './upgrader';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('a successor at a lower priority until ready', () => {
  afterEach(closeServers);

  it('is spawned in a session of its own with its group lowered at once, and sets its group back to the predecessor\'s before it takes connections', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ successorNice: 19 });
    env.files.set('/proc/self/autogroup', '/autogroup-7 nice 0\n');
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    expect(child.request.detached).toBe(true);
    expect(JSON.parse(child.request.env[HANDOFF_ENV] as string)).toMatchObject({ nice: 0 });
    await Promise.resolve();
    expect(env.files.get(`/proc/${child.pid}/autogroup`)).toBe('19');
    expect(logs.map((l) => l.message)).toContain(`successor ${child.pid} starts in a scheduling group of its own at nice 19 until ready`);

    const successorEnv = successorEnvironment(env, child);
    const successor = Upgrader.create({ environment: successorEnv, log: () => undefined });
    await successor.inheritedState(5_000);
    expect(successorEnv.files.get('/proc/self/autogroup')).toBeUndefined();
    const server = createServer();
    await successor.listen('other', server, { port: 0, host: '127.0.0.1' }); // not the inherited fd: jest's fd 4 is no socket
    expect(successorEnv.files.get('/proc/self/autogroup')).toBe('0');
    await successor.ready();
    server.close();
    await expect(outcome).resolves.toMatchObject({ ok: true });
    expect(successorEnv.files.get('/proc/self/autogroup')).toBe('0');
    expect(successorEnv.fileOps.filter((op) => op.includes('autogroup'))).toEqual(['write /proc/self/autogroup']);
    successor.close();
  });

  it('stays in this process\'s session and group by default, and touches no scheduling group', async () => {
    const { env, upgrader } = await predecessorSetup();
    env.files.set('/proc/self/autogroup', '/autogroup-7 nice 0\n');
    void upgrader.upgrade();
    const child = env.lastChild;
    expect(child.request.detached).toBeUndefined();
    expect(JSON.parse(child.request.env[HANDOFF_ENV] as string)).not.toHaveProperty('nice');
    await Promise.resolve();
    expect([...env.files.keys()].filter((k) => k.includes(`/proc/${child.pid}`))).toEqual([]);
    upgrader.close();
  });

  it('without autogroups in the kernel starts the successor in this session as an equal, and says so', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ successorNice: 19 });
    void upgrader.upgrade();
    expect(env.lastChild.request.detached).toBeUndefined();
    expect(JSON.parse(env.lastChild.request.env[HANDOFF_ENV] as string)).not.toHaveProperty('nice');
    expect(logs.map((l) => l.message)).toContain('no scheduling groups to lower here (no /proc/self/autogroup): the successor starts as an equal of this process');
    upgrader.close();
  });

  it('says so when the kernel refuses to lower the successor\'s group, and carries on', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ successorNice: 19 });
    env.files.set('/proc/self/autogroup', '/autogroup-7 nice 0\n');
    const write = env.writeFile.bind(env);
    env.writeFile = (path, data) => {
      if (/^\/proc\/\d+\/autogroup$/.test(path)) throw errno('EACCES');
      write(path, data);
    };
    void upgrader.upgrade();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.map((l) => l.message)).toContain("could not lower the successor's scheduling group (failed: EACCES); it starts as an equal of this process");
    upgrader.close();
  });

  it('sets a successor that is not ready successorEscapeMs after its spawn back to this process\'s group value, and says so', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ successorNice: 19, successorEscapeMs: 50 });
    env.files.set('/proc/self/autogroup', '/autogroup-7 nice 0\n');
    void upgrader.upgrade();
    const child = env.lastChild;
    await Promise.resolve();
    expect(env.files.get(`/proc/${child.pid}/autogroup`)).toBe('19');
    const deadline = Date.now() + 5_000;
    while (env.files.get(`/proc/${child.pid}/autogroup`) !== '0' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(env.files.get(`/proc/${child.pid}/autogroup`)).toBe('0');
    expect(logs.map((l) => l.message)).toContain(`successor ${child.pid}: it was not ready 50 ms after its start at a lower priority (a busy machine?); its scheduling group is set back to nice 0`);
    upgrader.close();
  });

  it('refuses a nice value outside 0..19 when created', () => {
    expect(() => Upgrader.create({ successorNice: 20 })).toThrow('process-handoff: successorNice must be an integer from 0 to 19, got 20');
    expect(() => Upgrader.create({ successorNice: -1 })).toThrow(/successorNice/);
    expect(() => Upgrader.create({ successorEscapeMs: -1 })).toThrow('process-handoff: successorEscapeMs must be an integer >= 0 (ms; 0 never), got -1');
  });

  it('reads the nice value of /proc/<pid>/autogroup', () => {
    expect(parseAutogroupNice('/autogroup-12 nice 19\n')).toBe(19);
    expect(parseAutogroupNice('/autogroup-3 nice -5\n')).toBe(-5);
    expect(parseAutogroupNice(undefined)).toBeUndefined();
  });
});

/** A clock, timers and /proc files under the test's control, for the successor's starvation watch. */
function watchHarness() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 0;
  const files = new Map<string, string>();
  const logs: string[] = [];
  const times = { runNs: 0, waitNs: 0 };
  const env = {
    readText: (path: string) => files.get(path),
    writeFile: (path: string, data: string) => void files.set(path, data),
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (id: unknown) => void (timers = timers.filter((t) => t.id !== id)),
  } as unknown as ProcessEnvironment;
  const schedstat = () => files.set('/proc/9/schedstat', `${times.runNs} ${times.waitNs} 12\n`);
  schedstat();
  return {
    env, files, logs, log: (_level: string, message: string) => void logs.push(message),
    /** Lets the successor's main thread run and wait this much (ms) over the next second, then moves the clock a second on. */
    second: async (runMs: number, waitMs: number) => {
      times.runNs += runMs * 1e6;
      times.waitNs += waitMs * 1e6;
      schedstat();
      now += 1_000;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers = timers.filter((x) => x !== t);
        t.fn();
      }
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('watchStarvedSuccessor (the predecessor watches a lowered successor)', () => {
  it('sets the group back after a second in which the successor waited for a CPU nearly all its runnable time (crowded out by a neighbour)', async () => {
    const h = watchHarness();
    watchStarvedSuccessor(h.env, 9, 0, 10_000, h.log);
    await h.second(20, 980);
    expect(QUICK_SUCCESSOR_ESCAPE.afterMs).toBeLessThanOrEqual(1_000);
    expect(h.files.get('/proc/9/autogroup')).toBe('0');
    expect(h.logs).toEqual(['successor 9: its start waited for a CPU 98 % of its runnable time (a busy neighbour?); its scheduling group is set back to nice 0']);
  });

  it('leaves a successor that runs most of its runnable time low until the threshold (below the service on a quiet host)', async () => {
    const h = watchHarness();
    watchStarvedSuccessor(h.env, 9, 0, 5_000, h.log);
    for (let i = 0; i < 4; i += 1) await h.second(600, 400);
    expect(h.files.get('/proc/9/autogroup')).toBeUndefined();
    await h.second(600, 400);
    expect(h.files.get('/proc/9/autogroup')).toBe('0');
    expect(h.logs).toEqual(['successor 9: it was not ready 5000 ms after its start at a lower priority (a busy machine?); its scheduling group is set back to nice 0']);
  });

  it('does not take a thread that was barely runnable for starved, and writes nothing once stopped', async () => {
    const h = watchHarness();
    const stop = watchStarvedSuccessor(h.env, 9, 0, 5_000, h.log);
    await h.second(5, 95); // 95 % of 0.1 s: idle most of the second
    expect(h.files.get('/proc/9/autogroup')).toBeUndefined();
    stop();
    for (let i = 0; i < 6; i += 1) await h.second(20, 980);
    expect(h.files.get('/proc/9/autogroup')).toBeUndefined();
    expect(h.logs).toEqual([]);
  });
});
