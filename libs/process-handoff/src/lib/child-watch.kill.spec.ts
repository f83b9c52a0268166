import { closeServers, predecessorSetup } from '../../test-support/upgrader-setup';

// What a failed upgrade leaves: the successor is frozen, the service taken back,
// then everything killed, and the outcome resolves only once all of it is gone.
describe('killing a failed successor', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(async () => {
    jest.useRealTimers();
    await closeServers();
  });

  it('takes back the pid file and calls reclaim while the successor is frozen, before it is killed', async () => {
    const order: string[] = [];
    const { env, upgrader } = await predecessorSetup({
      pidFile: '/run/api.pid',
      readyTimeoutMs: 1_000,
      reclaim: (successorPid) => void order.push(`reclaim ${successorPid} after ${env.signals.map(([p, s]) => `${s} ${p}`).join(', ')}`),
    });
    env.files.set('/run/api.pid', '100\n');
    const outcome = upgrader.upgrade();
    const pid = env.lastChild.pid as number;
    // It claimed the service just before it would have said ready, and left a temporary file mid-write.
    env.files.set('/run/api.pid', `${pid}\n`);
    env.files.set(`/run/api.pid.${pid}.tmp`, `${pid}\n`);
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'timeout' });
    expect(order).toEqual([`reclaim ${pid} after SIGSTOP ${pid}`]);
    expect(env.signals.map(([p, s]) => `${s} ${p}`)).toEqual([`SIGSTOP ${pid}`, `SIGKILL ${pid}`]);
    expect(env.files.get('/run/api.pid')).toBe('100\n');
    expect(env.files.has(`/run/api.pid.${pid}.tmp`)).toBe(false);
  });

  it('leaves a pid file that names neither process alone', async () => {
    const { env, upgrader } = await predecessorSetup({ pidFile: '/run/api.pid' });
    env.files.set('/run/api.pid', '4242\n');
    const outcome = upgrader.upgrade();
    await upgrader.cancel('test');
    await outcome;
    expect(env.files.get('/run/api.pid')).toBe('4242\n');
  });

  it('resolves cancel only once every killed process is gone, a slow-dying detached grandchild included', async () => {
    const { env, upgrader } = await predecessorSetup();
    void upgrader.upgrade();
    const child = env.lastChild;
    const pid = child.pid as number;
    env.procs.set(500, { ppid: pid, pgid: 500 }); // a detached Chromium
    env.procs.set(501, { ppid: 500, pgid: 500 });
    const kill = env.kill.bind(env);
    env.kill = (target, signal) => {
      if (signal === 'SIGKILL' && (target === -500 || target === 500 || target === 501)) {
        env.signals.push([target, signal]);
        return true; // they take a while to die
      }
      return kill(target, signal);
    };
    let resolved = false;
    const cancelled = upgrader.cancel('SIGTERM').then(() => (resolved = true));
    await jest.advanceTimersByTimeAsync(300);
    expect(child.exited).toBe(true);
    expect(resolved).toBe(false);
    env.procs.set(500, { ppid: 1, pgid: 500, state: 'Z' }); // dead, not reaped: gone
    await jest.advanceTimersByTimeAsync(300);
    expect(resolved).toBe(false);
    env.procs.delete(501);
    await jest.advanceTimersByTimeAsync(20);
    await cancelled;
    expect(resolved).toBe(true);
  });

  it('gives up waiting after the kill wait, and says which processes survived', async () => {
    const { env, upgrader, logs } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    const pid = env.lastChild.pid as number;
    env.procs.set(500, { ppid: pid, pgid: 500 });
    const kill = env.kill.bind(env);
    env.kill = (target, signal) => (Math.abs(target) === 500 ? (env.signals.push([target, signal]), true) : kill(target, signal));
    const cancelled = upgrader.cancel('test');
    await jest.advanceTimersByTimeAsync(5_100);
    await cancelled;
    await expect(outcome).resolves.toMatchObject({ reason: 'cancelled' });
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', fields: expect.objectContaining({ survivors: [500] }) }));
  });

  it('at its own fd limit (it cannot read /proc) still hands over on ready: unreadable is not "gone"', async () => {
    const { env, upgrader } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    env.readStat = () => {
      throw new Error('cannot read /proc/201/stat', { cause: Object.assign(new Error('EMFILE'), { code: 'EMFILE' }) });
    };
    env.lastChild.says({ type: 'ready' });
    await expect(outcome).resolves.toMatchObject({ ok: true });
  });

  it('at its own fd limit still kills a failed successor (the root at least: /proc cannot be walked)', async () => {
    const { env, upgrader } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    const pid = env.lastChild.pid as number;
    env.listPids = () => {
      throw Object.assign(new Error('EMFILE: too many open files, scandir /proc'), { code: 'EMFILE' });
    };
    await upgrader.cancel('test');
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'cancelled', exit: { signal: 'SIGKILL' } });
    expect(env.signals).toEqual([[pid, 'SIGSTOP'], [pid, 'SIGKILL']]);
  });

  it('fails at once when a running successor closes its channel: it can never say ready', async () => {
    const { env, upgrader } = await predecessorSetup({ readyTimeoutMs: 60_000 });
    const outcome = upgrader.upgrade();
    env.lastChild.closeChannel();
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'channel-closed', message: `successor ${env.lastChild.pid} closed the handoff channel before it was ready; it can no longer say ready` });
  });

  it('does not hand over to a successor whose ready arrives after it died', async () => {
    const { env, upgrader, logs } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    env.procs.set(child.pid as number, { ppid: 100, pgid: 100, state: 'Z', exitCode: 9 });
    child.says({ type: 'ready' });
    expect(upgrader.snapshot().state).toBe('spawning');
    expect(logs).toContainEqual(expect.objectContaining({ message: `successor ${child.pid} said ready but is gone already; not handing over` }));
    env.procs.delete(child.pid as number);
    child.exit(null, 'SIGKILL');
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'exited' });
  });
});
