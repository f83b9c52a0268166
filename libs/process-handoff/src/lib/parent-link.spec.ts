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

  it('carries on standalone when the predecessor dies before ready: no state, no crash, takes over on ready and says how it died', async () => {
    const { env, channel, upgrader, logs } = successorSetup('/run/api.pid');
    env.procs.set(100, { ppid: 1, pgid: 100, state: 'Z', exitCode: 9 }); // SIGKILLed, not reaped yet
    channel.drop();
    await expect(upgrader.inheritedState(60_000)).resolves.toBeUndefined();
    await expect(upgrader.ready()).resolves.toBeUndefined();
    expect(logs).toContain('the predecessor 100 was killed by SIGKILL before this process was ready; this process serves on the sockets it passed and takes over');
    expect(logs).toContain('took over from predecessor 100: it was killed by SIGKILL before this process was ready');
    expect(channel.sent.map((m) => m.type)).not.toContain('ready');
    expect(env.files.get('/run/api.pid')).toBe('300\n');
    expect(upgrader.snapshot()).toMatchObject({ predecessorPid: 100, predecessorLost: { pid: 100, exit: 'was killed by SIGKILL', at: expect.any(String) } });
  });

  it('counts a predecessor whose pid now belongs to another process as gone (start time), and one already reaped', async () => {
    for (const after of [{ ppid: 1, pgid: 7, startTime: 5 }, undefined]) {
      const env = new FakeEnvironment();
      Object.assign(env, { pid: 300, ppid: 1 });
      env.env = { [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 100, start: 1100, listeners: { http: 4 } }) };
      if (after) env.procs.set(100, after);
      else env.procs.delete(100);
      env.channel = new FakeParentChannel();
      env.channel.connected = false;
      const upgrader = Upgrader.create({ environment: env, log: () => undefined });
      expect(upgrader.isSuccessor).toBe(true);
      await expect(upgrader.ready()).resolves.toBeUndefined();
      expect(upgrader.snapshot().predecessorLost).toMatchObject({ pid: 100, message: expect.stringContaining('went away') });
    }
  });

  it('takes over from a predecessor that died just as ready was sent: a dying process keeps its sockets open for a while', async () => {
    const { env, channel, upgrader } = successorSetup();
    env.procs.set(100, { ppid: 1, pgid: 100, state: 'Z', exitCode: 9 });
    await upgrader.ready();
    expect(channel.sent.at(-1)).toEqual({ type: 'ready' });
    expect(upgrader.snapshot().predecessorLost).toMatchObject({ message: 'predecessor 100 was killed by SIGKILL at the moment this process said ready; this process serves on the sockets it passed and takes over' });
  });

  it('watches the predecessor after ready: predecessorGone resolves once it exited, and the log says how', async () => {
    jest.useFakeTimers();
    try {
      const { env, upgrader, logs } = successorSetup();
      await upgrader.ready();
      let gone = false;
      void upgrader.predecessorGone().then(() => (gone = true));
      await jest.advanceTimersByTimeAsync(1_000);
      expect(gone).toBe(false);
      env.procs.set(100, { ppid: 1, pgid: 100, state: 'Z', exitCode: 9 });
      await jest.advanceTimersByTimeAsync(250);
      expect(gone).toBe(true);
      expect(logs).toContain('predecessor 100 was killed by SIGKILL');
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses to take over when the channel closes while the predecessor still runs: it decides, and can no longer hear', async () => {
    const { channel, upgrader, logs } = successorSetup('/run/api.pid');
    channel.drop();
    await expect(upgrader.ready()).rejects.toThrow(/handoff channel to predecessor 100 closed while it still runs.*not taking over/);
    expect(logs).toContain('the handoff channel to predecessor 100 closed while it still runs; this process will not take over');
    expect(upgrader.snapshot().predecessorLost).toBeUndefined();
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

  it('passes handles with data after the switch, in order, of the kinds the successor listens for only; none without a successor', async () => {
    const { env, upgrader } = await predecessorSetup();
    await expect(upgrader.sendHandle('pipe', {}, {})).rejects.toThrow(/no successor to pass a pipe to/);
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    const successor = Upgrader.create({ environment: successorEnvironment(env, child), log: () => undefined });
    const got: [unknown, unknown][] = [];
    successor.onHandle('pipe', (data, handle) => got.push([data, handle]));
    await successor.ready();
    await expect(outcome).resolves.toMatchObject({ ok: true });
    const [first, second, other] = [{ end: 'to' }, { end: 'from' }, { end: 'x' }];
    await upgrader.sendHandle('pipe', { n: 1 }, first);
    await expect(upgrader.sendHandle('other', { n: 0 }, other)).rejects.toThrow(/the successor takes no other: it did not listen for it/);
    await upgrader.sendHandle('pipe', { n: 2 }, second);
    await settle();
    expect(got).toEqual([[{ n: 1 }, first], [{ n: 2 }, second]]);
    expect(child.sent.filter((m) => m.type === 'handle')).toEqual([{ type: 'handle', kind: 'pipe', data: { n: 1 } }, { type: 'handle', kind: 'pipe', data: { n: 2 } }]);
  });

  it('carries the apps\' own messages both ways from the successor\'s start, with the successor to answer and its exit', async () => {
    const { env, upgrader } = await predecessorSetup();
    const heard: unknown[] = [];
    const peers = new Set<unknown>();
    let exited = false;
    upgrader.onSuccessorMessage('relay', (data, from) => {
      heard.push([data, from.pid]);
      peers.add(from);
      void from.exited.then(() => (exited = true));
      void from.send('relay', { echo: data });
    });
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    const successor = Upgrader.create({ environment: successorEnvironment(env, child), log: () => undefined });
    const answers: unknown[] = [];
    successor.onPredecessorMessage('relay', (data) => answers.push(data));
    await successor.sendToPredecessor('relay', { n: 1 });
    await settle();
    expect(heard).toEqual([[{ n: 1 }, child.pid]]);
    expect(answers).toEqual([{ echo: { n: 1 } }]);
    await successor.ready();
    await expect(outcome).resolves.toMatchObject({ ok: true });
    await successor.sendToPredecessor('relay', { n: 2 });
    await settle();
    expect(answers).toEqual([{ echo: { n: 1 } }, { echo: { n: 2 } }]);
    expect(peers.size).toBe(1); // one successor, one peer: an app may tell its successors apart by it
    expect(exited).toBe(false);
    child.exit(0);
    await settle();
    expect(exited).toBe(true);
  });

  it('refuses an app message without a predecessor, and ignores a kind nobody listens for with a warning', async () => {
    const { env, upgrader, logs } = await predecessorSetup();
    await expect(upgrader.sendToPredecessor('relay', {})).rejects.toThrow(/no predecessor to send a relay message to/);
    void upgrader.upgrade();
    const successor = Upgrader.create({ environment: successorEnvironment(env, env.lastChild), log: () => undefined });
    await successor.sendToPredecessor('unknown', { n: 1 });
    await settle();
    expect(logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/ignored a unknown message from successor \d+: nothing here listens for it/));
  });

  it('tells the predecessor which kinds of handle the successor takes: those it listens for before its ready', async () => {
    const { env, upgrader } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    const successor = Upgrader.create({ environment: successorEnvironment(env, env.lastChild), log: () => undefined });
    successor.onHandle('qc-chrome', () => undefined);
    successor.onHandle('qc-chrome', () => undefined); // once is enough
    await successor.ready();
    await expect(outcome).resolves.toMatchObject({ ok: true });
    expect([upgrader.successorWants('qc-chrome'), upgrader.successorWants('other')]).toEqual([true, false]);
  });
});
