import { createServer } from 'node:net';
import { StubUpgrader } from './testing';

describe('StubUpgrader', () => {
  it('answers upgrades from its script, then hands over by default and refuses afterwards', async () => {
    const stub = new StubUpgrader({ outcomes: [{ ok: false, reason: 'timeout', message: 'slow', output: ['booting'], durationMs: 5 }] });
    await expect(stub.upgrade()).resolves.toMatchObject({ ok: false, reason: 'timeout', output: ['booting'] });
    await expect(stub.upgrade()).resolves.toMatchObject({ ok: true, successorPid: 999_999 });
    await expect(stub.upgrade()).resolves.toMatchObject({ ok: false, reason: 'handed-over' });
    expect(stub.snapshot()).toEqual({ supported: true, state: 'handed-over', attempts: 2 });
    expect(stub.calls).toEqual(['upgrade', 'upgrade', 'upgrade']);
  });

  it('listens for real, keeps the state provider and hands out the scripted inherited state', async () => {
    const stub = new StubUpgrader({ isSuccessor: true, predecessorPid: 7, inheritedState: { generation: 1 } });
    const server = createServer();
    const address = await stub.listen('http', server, { port: 0, host: '127.0.0.1' });
    expect(address.port).toBeGreaterThan(0);
    stub.provideState(() => 'cache');
    expect(stub.stateProvider?.()).toBe('cache');
    await expect(stub.inheritedState(10)).resolves.toEqual({ generation: 1 });
    expect(stub.listeners.get('http')).toBe(server);
    await new Promise((resolve) => server.close(resolve));
  });
});
