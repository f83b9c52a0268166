import { createServer, Server as NetServer } from 'node:net';
import { FakeEnvironment, FakeParentChannel } from '../../test-support/fake-environment';
import { closeServers, predecessorSetup, settle } from '../../test-support/upgrader-setup';
import { HANDOFF_ENV } from './inheritance';
import { listenerFd } from './listener-registry';
import { Upgrader } from './upgrader';

describe('Upgrader', () => {
  afterEach(closeServers);

  it('starts the successor like this process: node, execArgv, entry, arguments, cwd, start-up environment, listeners at fd 4', async () => {
    const env = new FakeEnvironment();
    env.env = { PATH: '/usr/bin', LISTEN_PID: '100', LISTEN_FDS: '1', NODE_CHANNEL_FD: '3' };
    const { upgrader, server } = await predecessorSetup({}, env);
    env.env['ADDED_LATER'] = 'by the app';
    env.workdir = '/somewhere/else';
    void upgrader.upgrade();
    const { request } = env.lastChild;
    expect(request).toEqual({
      command: '/usr/bin/node',
      args: ['-r', '@swc-node/register', '/srv/app/main.js', '--port', '8000'],
      cwd: '/srv/app',
      env: { PATH: '/usr/bin', [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 100, start: 1100, listeners: { http: 4 } }) },
      fds: [listenerFd(server)],
    });
    await upgrader.cancel('test over');
  });

  it('refuses a second trigger at once while one runs, and logs it', async () => {
    const { env, upgrader, logs } = await predecessorSetup();
    const first = upgrader.upgrade();
    await expect(upgrader.upgrade()).resolves.toMatchObject({ ok: false, reason: 'busy', message: expect.stringContaining(String(env.lastChild.pid)) });
    expect(env.children).toHaveLength(1);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^upgrade refused: an upgrade is already running/) }));
    env.lastChild.says({ type: 'ready' });
    await expect(first).resolves.toMatchObject({ ok: true });
  });

  it('hands over on ready: keeps the channel for connections but lets neither it nor the child hold the process, reports it, and refuses further upgrades', async () => {
    const { env, upgrader } = await predecessorSetup();
    const outcome = upgrader.upgrade();
    const child = env.lastChild;
    child.says({ type: 'hello', pid: child.pid });
    child.says({ type: 'ready' });
    await expect(outcome).resolves.toEqual({ ok: true, successorPid: child.pid, durationMs: expect.any(Number) });
    expect(child).toMatchObject({ disconnected: false, unrefed: true });
    expect(upgrader.snapshot()).toMatchObject({ supported: true, state: 'handed-over', attempts: 1, successorPid: child.pid, last: { ok: true } });
    await expect(upgrader.upgrade()).resolves.toMatchObject({ ok: false, reason: 'handed-over' });
    expect(upgrader.snapshot().attempts).toBe(1);
  });

  it('fails with spawn-failed when a listener no longer listens, or spawning throws, and stays idle', async () => {
    const { env, upgrader, server } = await predecessorSetup();
    env.spawnThrows = new Error('spawn EAGAIN');
    await expect(upgrader.upgrade()).resolves.toMatchObject({ ok: false, reason: 'spawn-failed', message: expect.stringContaining('spawn EAGAIN') });
    await new Promise((resolve) => server.close(resolve));
    await expect(upgrader.upgrade()).resolves.toMatchObject({
      ok: false,
      reason: 'spawn-failed',
      message: expect.stringContaining("listener 'http': cannot pass this listener to a successor: it is not listening"),
    });
    expect(upgrader.snapshot()).toMatchObject({ state: 'idle', attempts: 2, last: { ok: false, reason: 'spawn-failed' } });
  });

  it('reports an asynchronous spawn error (no pid) as spawn-failed', async () => {
    const env = new FakeEnvironment();
    env.spawn = (request, handlers) => {
      setImmediate(() => handlers.spawnError(new Error('spawn /usr/bin/node ENOENT')));
      return { pid: undefined, send: async () => undefined, sendHandle: async () => undefined, disconnect: () => undefined, unref: () => undefined };
    };
    const { upgrader } = await predecessorSetup({}, env);
    await expect(upgrader.upgrade()).resolves.toMatchObject({ ok: false, reason: 'spawn-failed', message: expect.stringContaining('ENOENT') });
  });

  it('is not supported off Linux or without an entry file, and says why', async () => {
    const env = new FakeEnvironment();
    env.argv = ['/usr/bin/node'];
    const { upgrader } = await predecessorSetup({}, env);
    expect(upgrader.snapshot().supported).toBe(false);
    await expect(upgrader.upgrade()).resolves.toMatchObject({ reason: 'spawn-failed', message: expect.stringContaining('not started from an entry file') });
  });

  it('writes the pid file atomically on ready: a temporary file beside it, then a rename', async () => {
    const { env, upgrader } = await predecessorSetup({ pidFile: '/run/api.pid' });
    await upgrader.ready();
    expect(env.fileOps).toEqual(['write /run/api.pid.100.tmp', 'rename /run/api.pid.100.tmp /run/api.pid']);
    expect(env.files).toEqual(new Map([['/run/api.pid', '100\n']]));
  });

  it('rejects ready with a clear error when the pid file cannot be written, and may be retried', async () => {
    const env = new FakeEnvironment();
    const rename = env.rename.bind(env);
    env.rename = () => {
      throw new Error('EACCES: permission denied');
    };
    const { upgrader } = await predecessorSetup({ pidFile: '/run/api.pid' }, env);
    await expect(upgrader.ready()).rejects.toThrow('cannot write pid file /run/api.pid: EACCES: permission denied; check that its directory exists');
    env.rename = rename;
    await expect(upgrader.ready()).resolves.toBeUndefined();
  });

  it('listens on the inherited socket of the same name instead of the given target, and deletes the variable', async () => {
    const env = new FakeEnvironment();
    env.ppid = 42;
    env.env = { PATH: '/usr/bin', [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 42, listeners: { http: 4 } }) };
    const successor = Upgrader.create({ environment: env, log: () => undefined });
    // One process cannot listen twice on one socket (epoll refuses the same fd): record the target instead.
    const targets: unknown[] = [];
    const server = Object.assign(createServer(), {
      listen: (target: unknown, done: () => void) => (targets.push(target), setImmediate(done)),
      address: () => ({ port: 8000, address: '127.0.0.1', family: 'IPv4' }),
    });
    await expect(successor.listen('http', server, { port: 0, host: '127.0.0.1' })).resolves.toMatchObject({ port: 8000 });
    expect(targets).toEqual([{ fd: 4 }]);
    expect(successor).toMatchObject({ isSuccessor: true, predecessorPid: 42 });
    expect(env.env).toEqual({ PATH: '/usr/bin' });
  });

  it('takes the inheritance of a predecessor that is a zombie (SIGKILLed, its parent has not reaped it yet)', () => {
    const env = new FakeEnvironment();
    Object.assign(env, { pid: 300, ppid: 1 }); // reparented
    env.procs.set(42, { ppid: 7, pgid: 42, state: 'Z', exitCode: 9 });
    env.env = { [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 42, listeners: { http: 4 } }) };
    expect(Upgrader.create({ environment: env, log: () => undefined })).toMatchObject({ isSuccessor: true, predecessorPid: 42 });
    const stillThere = new FakeEnvironment();
    Object.assign(stillThere, { pid: 300, ppid: 1 });
    stillThere.procs.set(42, { ppid: 7, pgid: 42 }); // a live process of that pid that is not our parent
    stillThere.env = { [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 42, listeners: { http: 4 } }) };
    expect(Upgrader.create({ environment: stillThere, log: () => undefined })).toMatchObject({ isSuccessor: false });
  });

  it('tells a waiting predecessor why it cannot start when the handoff speaks another protocol version', () => {
    const env = new FakeEnvironment();
    env.ppid = 42;
    env.env = { [HANDOFF_ENV]: JSON.stringify({ v: 2, parent: 42, listeners: { http: 4 } }) };
    env.channel = new FakeParentChannel();
    expect(() => Upgrader.create({ environment: env })).toThrow(/speaks protocol v2 but this build speaks v1/);
    expect(env.channel.sent).toEqual([{ type: 'fatal', text: expect.stringMatching(/speaks protocol v2 but this build speaks v1.*restart instead/) }]);
  });

  it('refuses two listeners of the same name', async () => {
    const { upgrader } = await predecessorSetup();
    await expect(upgrader.listen('http', createServer(), { port: 0 })).rejects.toThrow("a listener named 'http' is already registered");
  });

  it('validates its options with the default named in the message', () => {
    expect(() => Upgrader.create({ environment: new FakeEnvironment(), readyTimeoutMs: -1 })).toThrow('readyTimeoutMs must be a positive integer, got -1 (default 60000)');
    expect(() => Upgrader.create({ environment: new FakeEnvironment(), pidFile: ' ' })).toThrow(/pidFile is empty/);
  });

  it('does nothing on cancel when no upgrade runs', async () => {
    const { upgrader } = await predecessorSetup();
    await expect(upgrader.cancel('SIGTERM')).resolves.toBeUndefined();
    await settle();
    expect(upgrader.snapshot().state).toBe('idle');
  });
});

describe('Upgrader with prepareSuccessor', () => {
  afterEach(closeServers);

  it('forks the successor\'s process when it listens, for exactly the request an upgrade makes, and launches it at the upgrade instead of spawning', async () => {
    const { env, upgrader, server } = await predecessorSetup({ prepareSuccessor: true });
    expect(env.prepared).toHaveLength(1);
    const [prepared] = env.prepared;
    expect(upgrader.preparedPid).toBe(prepared.pid);
    expect(prepared.request).toMatchObject({ command: '/usr/bin/node', fds: [listenerFd(server)] });
    const outcome = upgrader.upgrade();
    expect(prepared.launched).toBe(true);
    expect(env.children).toHaveLength(1);
    expect(env.lastChild).toMatchObject({ pid: prepared.pid, request: prepared.request });
    env.lastChild.says({ type: 'ready' });
    await expect(outcome).resolves.toMatchObject({ ok: true, successorPid: prepared.pid });
    expect(env.prepared).toHaveLength(1); // handed over: no next one here
    expect(upgrader.preparedPid).toBeUndefined();
  });

  it('spawns, and says why, when the prepared process ended or was prepared for other listeners', async () => {
    const { env, upgrader, logs } = await predecessorSetup({ prepareSuccessor: true });
    env.prepared[0].exited = 'it was killed by SIGKILL before the upgrade';
    void upgrader.upgrade();
    expect(env.lastChild.pid).not.toBe(env.prepared[0].pid);
    expect(logs).toContainEqual(expect.objectContaining({ message: `the prepared successor ${env.prepared[0].pid} is not used (it was killed by SIGKILL before the upgrade); spawning one` }));
    await upgrader.cancel('test over');

    // Killed just before the signal, its exit not yet seen here: a zombie, told by /proc.
    const killed = await predecessorSetup({ prepareSuccessor: true });
    const zombie = killed.env.prepared[0];
    Object.assign(killed.env.procs.get(zombie.pid as number) ?? {}, { state: 'Z', exitCode: 9 });
    void killed.upgrader.upgrade();
    expect(killed.env.lastChild.pid).not.toBe(zombie.pid);
    expect(zombie.launched).toBe(false);
    expect(killed.logs).toContainEqual(expect.objectContaining({ message: `the prepared successor ${zombie.pid} is not used (it was killed by SIGKILL before the upgrade); spawning one` }));
    await killed.upgrader.cancel('test over');

    const other = await predecessorSetup({ prepareSuccessor: true });
    const first = other.env.prepared[0];
    // A listener registered past the upgrader (not through it) changes nothing; another through it replaces the prepared process.
    const second = createServer();
    await other.upgrader.listen('admin', second, { port: 0, host: '127.0.0.1' });
    expect(first.discarded).toBe(true);
    expect(other.env.prepared[1].request.fds).toEqual([listenerFd(other.server), listenerFd(second)]);
    await new Promise((resolve) => second.close(resolve));
  });

  it('prepares a new one after a failed upgrade, none after a refused trigger or a cancelled upgrade', async () => {
    const { env, upgrader } = await predecessorSetup({ prepareSuccessor: true });
    const outcome = upgrader.upgrade();
    await expect(upgrader.upgrade()).resolves.toMatchObject({ reason: 'busy' });
    expect(env.prepared).toHaveLength(1);
    env.lastChild.exit(1);
    await expect(outcome).resolves.toMatchObject({ ok: false, reason: 'exited' });
    expect(env.prepared).toHaveLength(2);
    expect(upgrader.preparedPid).toBe(env.prepared[1].pid);

    const cancelled = upgrader.upgrade();
    await upgrader.cancel('SIGTERM');
    await expect(cancelled).resolves.toMatchObject({ ok: false, reason: 'cancelled' });
    expect(env.prepared).toHaveLength(2);
    expect(upgrader.preparedPid).toBeUndefined();
  });

  it('ends the prepared process before the listening handle closes (net.Server.prototype.close too), and at close()', async () => {
    const { env, upgrader, server } = await predecessorSetup({ prepareSuccessor: true });
    await new Promise((resolve) => NetServer.prototype.close.call(server, resolve));
    expect(env.prepared[0].discarded).toBe(true);
    expect(upgrader.preparedPid).toBeUndefined();
    const again = await predecessorSetup({ prepareSuccessor: true });
    again.upgrader.close();
    expect(again.env.prepared[0].discarded).toBe(true);
    expect(again.upgrader.preparedPid).toBeUndefined();
  });

  it('in a successor, prepares before it listens on the inherited socket, with that fd', async () => {
    const env = new FakeEnvironment();
    env.ppid = 42;
    env.env = { PATH: '/usr/bin', [HANDOFF_ENV]: JSON.stringify({ v: 1, parent: 42, listeners: { http: 4 } }) };
    const successor = Upgrader.create({ environment: env, log: () => undefined, prepareSuccessor: true });
    const preparedAtListen: number[] = [];
    const server = Object.assign(createServer(), {
      listen: (_target: unknown, done: () => void) => (preparedAtListen.push(env.prepared.length), setImmediate(done)),
      address: () => ({ port: 8000, address: '127.0.0.1', family: 'IPv4' }),
    });
    await successor.listen('http', server, { port: 0 });
    expect(preparedAtListen).toEqual([1]);
    expect(env.prepared[0].request.fds).toEqual([4]);
    expect(JSON.parse(env.prepared[0].request.env[HANDOFF_ENV] as string)).toMatchObject({ parent: 100, listeners: { http: 4 } });
  });

  it('prepares nothing by default', async () => {
    const { env } = await predecessorSetup();
    expect(env.prepared).toEqual([]);
  });
});
