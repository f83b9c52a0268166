import { createServer } from 'node:net';
import { FakeEnvironment, FakeParentChannel, successorEnvironment } from '../../test-support/fake-environment';
import { closeServers, predecessorSetup, settle } from '../../test-support/upgrader-setup';
import { HANDOFF_ENV } from './inheritance';
import { Upgrader } from './upgrader';

/** A successor upgrader on a fake environment whose channel the test plays. */
function successorSetup(pidFile?: string) {
  const env = new FakeEnvironment();
  env.pid = 300;
  env.ppid = 100;
  env.env = { PATH: '/usr/bin', [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 100, listeners: { http: 4 } }) };
  env.channel = new FakeParentChannel();
  const logs: string[] = [];
  const upgrader = Upgrader.create({ environment: env, log: (_level, message) => logs.push(message), pidFile });
  return { env, channel: env.channel, upgrader, logs };
}

describe('the successor side', () => {
  afterEach(closeServers);

  it('greets the predecessor at once and copies its output until ready', async () => {
    const { env, channel, upgrader } = successorSetup();
    env.write('stdout', 'nest initialised\n');
    env.write('stderr', 'warn: slow start\n');
    await upgrader.ready();
    env.write('stdout', 'serving\n');
    expect(channel.sent).toEqual([
      { type: 'hello', pid: 300 },
      { type: 'output', stream: 'stdout', text: 'nest initialised\n' },
      { type: 'output', stream: 'stderr', text: 'warn: slow start\n' },
      { type: 'ready' },
    ]);
  });

  it('sends a fatal error with its stack before the process dies of it', () => {
    const { env, channel } = successorSetup();
    env.crash(new Error('cannot connect to chromium'));
    expect(channel.sent.at(-1)).toEqual({ type: 'fatal', text: expect.stringMatching(/^Error: cannot connect to chromium\n\s+at /) });
  });

  it('after ready stops the copy and keeps only an unref\'d channel for handed-over connections, so it keeps no process alive', async () => {
    const { env, channel, upgrader, logs } = successorSetup();
    await upgrader.ready();
    expect(logs).toContain('ready before listening on inherited http: new connections wait in the backlog until then');
    expect(channel.sent.at(-1)).toEqual({ type: 'ready' });
    expect({ connected: channel.connected, unrefed: channel.unrefed, listening: channel.listening, tapped: env.tapped }).toEqual({ connected: true, unrefed: true, listening: true, tapped: false });
    upgrader.close();
    expect({ connected: channel.connected, listening: channel.listening }).toEqual({ connected: false, listening: false });
  });

  it('writes its pid file before it tells the predecessor, and does not tell it when that fails', async () => {
    const { env, channel, upgrader } = successorSetup('/run/api.pid');
    env.rename = () => {
      throw new Error('ENOENT');
    };
    await expect(upgrader.ready()).rejects.toThrow(/cannot write pid file/);
    expect(channel.sent.map((m) => m.type)).not.toContain('ready');
  });

  it('carries on standalone when the predecessor goes away before ready: no state, no crash, ready still works', async () => {
    const { channel, upgrader, logs } = successorSetup('/run/api.pid');
    channel.drop();
    await expect(upgrader.inheritedState(60_000)).resolves.toBeUndefined();
    await expect(upgrader.ready()).resolves.toBeUndefined();
    expect(logs).toContain('the predecessor went away before this process was ready; carrying on on its own');
    expect(channel.sent.map((m) => m.type)).not.toContain('ready');
  });

  it('resolves inheritedState with undefined when no state arrives in time', async () => {
    jest.useFakeTimers();
    try {
      const { upgrader } = successorSetup();
      const state = upgrader.inheritedState(2_000);
      await jest.advanceTimersByTimeAsync(2_000);
      await expect(state).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('holds back and coalesces output while the channel is slow, keeping the latest text', async () => {
    const { env, channel } = successorSetup();
    const pending: (() => void)[] = [];
    channel.send = (message) => new Promise<void>((resolve) => pending.push(() => (channel.sent.push(message), resolve())));
    for (let i = 0; i < 40; i += 1) env.write('stdout', `line ${i}\n`);
    expect(pending.length).toBeLessThanOrEqual(17); // hello + 16 output messages in flight
    while (pending.length > 0) {
      pending.shift()?.();
      await settle();
    }
    const copied = channel.sent.filter((m) => m.type === 'output').map((m) => (m.type === 'output' ? m.text : '')).join('');
    expect(copied).toContain('line 39\n');
    expect(copied.split('\n').filter(Boolean)).toHaveLength(40);
  });
});

describe('a successor that upgrades in turn', () => {
  afterEach(closeServers);

  it('refuses before it said ready, and while its predecessor still drains; starts once the predecessor is gone', async () => {
    const { env, upgrader, logs } = successorSetup();
    env.procs.set(100, { ppid: 1, pgid: 100 }); // the predecessor
    const server = createServer();
    await upgrader.listen('other', server, { port: 0, host: '127.0.0.1' });
    await expect(upgrader.upgrade()).resolves.toMatchObject({ reason: 'busy', message: 'this process has not said ready to its predecessor yet' });
    await upgrader.ready();
    await expect(upgrader.upgrade()).resolves.toMatchObject({ reason: 'busy', message: 'predecessor 100 still runs (draining); one handoff at a time' });
    env.procs.set(100, { ppid: 1, pgid: 100, state: 'Z' });
    const outcome = upgrader.upgrade();
    expect(env.children).toHaveLength(1);
    expect(JSON.parse(env.lastChild.request.env[HANDOFF_ENV] as string)).toEqual({ v: 1, parent: 300, listeners: { other: 4 } });
    expect(logs.filter((m) => m.startsWith('upgrade refused'))).toHaveLength(2);
    upgrader.close();
    await expect(outcome).resolves.toMatchObject({ reason: 'cancelled', message: 'upgrade cancelled (upgrader closed)' });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('the whole protocol in memory', () => {
  afterEach(closeServers);

  it('predecessor and successor upgraders hand over the state and the listeners, then keep only an unref\'d channel for connections', async () => {
    const { env, upgrader } = await predecessorSetup();
    upgrader.provideState(() => ({ entries: [['lesson-1', { ok: true }]] }));
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    const successorEnv = successorEnvironment(env, child);
    const successor = Upgrader.create({ environment: successorEnv, log: () => undefined });
    expect(successor).toMatchObject({ isSuccessor: true, predecessorPid: 100 });
    await expect(successor.inheritedState(5_000)).resolves.toEqual({ entries: [['lesson-1', { ok: true }]] });
    expect(upgrader.snapshot().state).toBe('starting');
    await successor.ready();
    await expect(outcome).resolves.toMatchObject({ ok: true, successorPid: child.pid });
    expect(child).toMatchObject({ disconnected: false, unrefed: true });
    expect(successorEnv.channel).toMatchObject({ connected: true, unrefed: true, listening: true });
    expect(successorEnv.env[HANDOFF_ENV]).toBeUndefined();
    // The predecessor's exit ends it; the successor serves on.
    successorEnv.channel?.drop();
    expect(successorEnv.channel?.listening).toBe(false);
  });
});
