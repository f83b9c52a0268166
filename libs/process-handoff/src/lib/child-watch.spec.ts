import { closeServers, predecessorSetup, settle } from '../../test-support/upgrader-setup';

describe('an upgrade that fails', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(async () => {
    jest.useRealTimers();
    await closeServers();
  });

  it('kills a successor that is not ready within readyTimeoutMs with its tree, and reports its last lines', async () => {
    const { env, upgrader } = await predecessorSetup({ readyTimeoutMs: 5_000 });
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    const pid = child.pid as number;
    env.procs.set(500, { ppid: pid, pgid: 500 }); // a detached Chromium
    child.says({ type: 'hello', pid });
    child.says({ type: 'output', stream: 'stdout', text: 'launching chromium\n' });
    await jest.advanceTimersByTimeAsync(4_999);
    expect(upgrader.snapshot()).toMatchObject({ state: 'starting', successorPid: pid });
    expect(env.signals).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toEqual({
      ok: false,
      reason: 'timeout',
      message: `successor ${pid} was not ready within 5000 ms`,
      successorPid: pid,
      exit: { code: null, signal: 'SIGKILL' },
      output: ['launching chromium'],
      durationMs: 5_000,
    });
    expect(env.procs.has(500)).toBe(false);
    expect(env.signals).toContainEqual([-500, 'SIGKILL']);
    expect(upgrader.snapshot()).toMatchObject({ state: 'idle', last: { ok: false, reason: 'timeout', successorPid: pid } });
  });

  it('reports a successor that exits before ready with its code, its output and its fatal error, and kills what it left behind', async () => {
    const { env, upgrader } = await predecessorSetup({ outputLines: 3 });
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    child.says({ type: 'hello', pid: child.pid });
    await jest.advanceTimersByTimeAsync(600); // the tree was sampled: 501 is remembered
    env.procs.set(501, { ppid: child.pid as number, pgid: 501 });
    await jest.advanceTimersByTimeAsync(500);
    child.says({ type: 'output', stream: 'stderr', text: 'one\ntwo\nthree\n' });
    child.says({ type: 'fatal', text: 'Error: cannot find module ./app\n    at main.js:1' });
    env.procs.delete(child.pid as number);
    env.procs.set(501, { ppid: 1, pgid: 501 }); // orphaned
    child.exit(1);
    const result = await outcome;
    expect(result).toMatchObject({ ok: false, reason: 'exited', message: `successor ${child.pid} exited with code 1 before it was ready`, exit: { code: 1, signal: null } });
    expect(result.ok || result.output).toEqual(['three', 'Error: cannot find module ./app', '    at main.js:1']);
    expect(env.procs.has(501)).toBe(false);
    expect(env.signals.map(([pid]) => pid)).not.toContain(child.pid);
  });

  it('says where the output went when a successor dies before the library ran (a syntax error)', async () => {
    const { env, upgrader } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    env.lastChild.exit(null, 'SIGKILL');
    await expect(outcome).resolves.toMatchObject({
      reason: 'exited',
      message: expect.stringMatching(/was killed by SIGKILL before it was ready; no output captured before exit; its own output went to the same stdout\/stderr as this process$/),
      output: [],
    });
  });

  it('cancels a starting successor: kills it, resolves cancel once it is gone, and the upgrade says cancelled', async () => {
    const { env, upgrader } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    const cancelled = upgrader.cancel('SIGTERM');
    expect(upgrader.snapshot().state).toBe('killing');
    await cancelled;
    expect(child.exited).toBe(true);
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'cancelled', message: 'upgrade cancelled (SIGTERM)', exit: { signal: 'SIGKILL' } });
    expect(upgrader.snapshot().state).toBe('idle');
  });

  it('refuses triggers while a failed successor is being killed, and allows a new upgrade afterwards', async () => {
    const { env, upgrader } = await predecessorSetup();
    const first = upgrader.upgrade();
    const cancelled = upgrader.cancel('test');
    await expect(upgrader.upgrade()).resolves.toMatchObject({ reason: 'busy' });
    await cancelled;
    await first;
    const second = upgrader.upgrade();
    expect(env.children).toHaveLength(2);
    env.lastChild.says({ type: 'ready' });
    await expect(second).resolves.toMatchObject({ ok: true, successorPid: env.lastChild.pid });
  });

  it('ignores a ready that comes after the timeout fired', async () => {
    const { env, upgrader } = await predecessorSetup({ readyTimeoutMs: 1_000 });
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    env.kill = (pid, signal) => (env.signals.push([pid, signal]), true); // it takes a while to die
    await jest.advanceTimersByTimeAsync(1_000);
    child.says({ type: 'ready' });
    env.procs.delete(child.pid as number);
    child.exit(null, 'SIGKILL');
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'timeout' });
    expect(child.unrefed).toBe(false);
  });
});

describe('state transfer', () => {
  afterEach(closeServers);

  it("sends the provider's state right after the successor's hello, once per upgrade", async () => {
    const { env, upgrader } = await predecessorSetup();
    const provider = jest.fn(() => ({ cache: new Map([['k', 'v']]) }));
    upgrader.provideState(provider);
    void upgrader.upgrade();
    const child = env.lastChild;
    await settle();
    expect(provider).not.toHaveBeenCalled();
    child.says({ type: 'hello', pid: child.pid });
    child.says({ type: 'hello', pid: child.pid });
    await settle();
    expect(provider).toHaveBeenCalledTimes(1);
    expect(child.sent).toEqual([{ type: 'state', data: { cache: new Map([['k', 'v']]) } }]);
    await upgrader.cancel('test over');
  });

  it('sends an empty state when there is no provider, or the provider throws, so the successor never waits for it', async () => {
    const { env, upgrader, logs } = await predecessorSetup();
    void upgrader.upgrade();
    env.lastChild.says({ type: 'hello', pid: env.lastChild.pid });
    await settle();
    expect(env.lastChild.sent).toEqual([{ type: 'state', data: undefined }]);
    await upgrader.cancel('next');
    upgrader.provideState(() => {
      throw new Error('cache locked');
    });
    void upgrader.upgrade();
    env.lastChild.says({ type: 'hello', pid: env.lastChild.pid });
    await settle();
    expect(env.lastChild.sent).toEqual([{ type: 'state', data: undefined }]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', fields: { error: 'cache locked' } }));
    await upgrader.cancel('test over');
  });

  it('does not send a state over maxStateBytes: the successor gets an empty one at once, and the log says why', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ maxStateBytes: 1_000 });
    upgrader.provideState(() => ({ cache: Buffer.alloc(2_000) }));
    void upgrader.upgrade();
    env.lastChild.says({ type: 'hello', pid: env.lastChild.pid });
    await settle();
    expect(env.lastChild.sent).toEqual([{ type: 'state', data: undefined }]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', fields: { error: expect.stringMatching(/^the state is \d+ bytes, over maxStateBytes \(1000\)/) } }));
    await upgrader.cancel('test over');
  });

  it('ignores messages that are not part of the protocol', async () => {
    const { env, upgrader, logs } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    env.lastChild.says({ type: 'ready!' });
    env.lastChild.says('ready');
    await settle();
    expect(upgrader.snapshot().state).toBe('spawning');
    expect(logs.filter((l) => l.message.includes('not part of the handoff protocol'))).toHaveLength(2);
    await upgrader.cancel('test over');
    await outcome;
  });
});
