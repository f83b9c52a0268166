import { createServer } from 'node:net';
import { successorEnvironment } from '../../test-support/fake-environment';
import { closeServers, predecessorSetup } from '../../test-support/upgrader-setup';
import { HANDOFF_ENV } from './inheritance';
import { parseAutogroupNice } from './successor-priority';
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
    expect(logs.map((l) => l.message)).toContain(`successor ${child.pid} was not ready 50 ms after its start at a lower priority (a busy machine?): its scheduling group is set back to nice 0`);
    upgrader.close();
  });

  it('refuses a nice value outside 0..19 when created', () => {
    expect(() => Upgrader.create({ successorNice: 20 })).toThrow('process-handoff: successorNice must be an integer from 0 to 19, got 20');
    expect(() => Upgrader.create({ successorNice: -1 })).toThrow(/successorNice/);
    expect(() => Upgrader.create({ successorEscapeMs: -1 })).toThrow('process-handoff: successorEscapeMs must be an integer >= 0 (ms; 0 never), got -1');
    expect(() => Upgrader.create({ successorHelpersIdleMs: 1.5 })).toThrow('process-handoff: successorHelpersIdleMs must be an integer >= 0 (ms), got 1.5');
  });

  it('reads the nice value of /proc/<pid>/autogroup', () => {
    expect(parseAutogroupNice('/autogroup-12 nice 19\n')).toBe(19);
    expect(parseAutogroupNice('/autogroup-3 nice -5\n')).toBe(-5);
    expect(parseAutogroupNice(undefined)).toBeUndefined();
  });
});
