import { InFlightRegistry } from './in-flight-registry';
import { ShutdownCoordinator } from './shutdown-coordinator';
import type { ShutdownDeps, ShutdownLogEvent } from './shutdown-events';
import type { ShutdownOptions } from './shutdown-options';

/** A coordinator on jest's fake clock, with its log and exit calls recorded. */
function setup(options: Partial<ShutdownOptions> = {}) {
  const log: ShutdownLogEvent[] = [];
  const exit = jest.fn<void, [number]>();
  const deps: ShutdownDeps = {
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    exit,
    log: (event) => log.push(event),
  };
  const registry = new InFlightRegistry(deps.now);
  const coordinator = new ShutdownCoordinator(registry, { timeoutMs: 10_000, delayMs: 0, hookTimeoutMs: 1_000, ...options }, deps);
  coordinator.markStarted();
  const phases = () => log.filter((e) => e.kind === 'phase').map((e) => (e.kind === 'phase' ? e.state : ''));
  return { coordinator, registry, log, exit, phases };
}

describe('ShutdownCoordinator', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('turns readiness off and refuses new work at once on the first SIGTERM', () => {
    const { coordinator, registry } = setup();
    registry.begin('POST', '/qc/check');
    coordinator.handleSignal('SIGTERM');
    expect(coordinator.snapshot()).toMatchObject({
      phase: 'draining',
      ready: false,
      admitting: false,
      inFlight: 1,
      drainingSince: '2026-01-01T00:00:00.000Z',
      deadline: '2026-01-01T00:00:10.000Z',
    });
  });

  it('waits for in-flight work, then runs hooks in order and exits 0', async () => {
    const { coordinator, registry, exit, phases } = setup();
    const order: string[] = [];
    coordinator.addHook({ name: 'http', run: () => void order.push('http') });
    coordinator.addHook({ name: 'pool', run: async () => void order.push('pool') });
    const end = registry.begin('POST', '/qc/check');
    coordinator.handleSignal('SIGTERM');
    await jest.advanceTimersByTimeAsync(5_000);
    expect(order).toEqual([]);
    expect(exit).not.toHaveBeenCalled();
    end();
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['http', 'pool']);
    expect(exit).toHaveBeenCalledWith(0);
    expect(phases()).toEqual(['ready', 'draining', 'cleaning', 'stopped']);
  });

  it('cuts off work that outlasts the timeout, logging each request, and still exits 0', async () => {
    const { coordinator, registry, exit, log } = setup({ timeoutMs: 3_000 });
    registry.begin('POST', '/qc/check');
    coordinator.handleSignal('SIGTERM');
    await jest.advanceTimersByTimeAsync(2_999);
    expect(exit).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(log).toContainEqual({ kind: 'cut-off', method: 'POST', route: '/qc/check', ageMs: 3_000, reason: 'timeout' });
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('does not shorten the drain on repeated SIGTERMs', async () => {
    const { coordinator, registry, exit } = setup({ timeoutMs: 3_000 });
    registry.begin('GET', '/slow');
    coordinator.handleSignal('SIGTERM');
    for (let i = 0; i < 5; i += 1) {
      await jest.advanceTimersByTimeAsync(500);
      coordinator.handleSignal('SIGTERM');
    }
    expect(exit).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(500);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('keeps serving during the propagation delay while readiness is already off', async () => {
    const { coordinator, exit, phases } = setup({ delayMs: 2_000 });
    coordinator.handleSignal('SIGTERM');
    expect(coordinator.snapshot()).toMatchObject({ phase: 'draining', ready: false, admitting: true, deadline: '2026-01-01T00:00:12.000Z' });
    await jest.advanceTimersByTimeAsync(1_999);
    expect(coordinator.snapshot().admitting).toBe(true);
    await jest.advanceTimersByTimeAsync(1);
    expect(phases()).toEqual(['ready', 'delaying', 'draining', 'cleaning', 'stopped']);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('skips the delay and the drain on a second Ctrl-C', async () => {
    const { coordinator, registry, exit, log } = setup({ delayMs: 5_000 });
    const hook = jest.fn();
    coordinator.addHook({ name: 'pool', run: hook });
    registry.begin('POST', '/qc/check');
    coordinator.handleSignal('SIGINT');
    await jest.advanceTimersByTimeAsync(400);
    coordinator.handleSignal('SIGINT');
    await jest.advanceTimersByTimeAsync(0);
    expect(log).toContainEqual(expect.objectContaining({ kind: 'cut-off', route: '/qc/check', reason: 'skipped' }));
    expect(hook).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('exits 1 on a third Ctrl-C after logging what was still in flight', async () => {
    const { coordinator, registry, exit, log } = setup();
    coordinator.addHook({ name: 'hangs', run: () => new Promise<void>(() => undefined), timeoutMs: 60_000 });
    registry.begin('POST', '/qc/screenshot');
    coordinator.handleSignal('SIGINT');
    await jest.advanceTimersByTimeAsync(400);
    coordinator.handleSignal('SIGINT');
    await jest.advanceTimersByTimeAsync(400);
    coordinator.handleSignal('SIGINT');
    const forced = log.find((e) => e.kind === 'forced-exit');
    expect(forced).toMatchObject({ inFlight: [expect.objectContaining({ method: 'POST', route: '/qc/screenshot' })] });
    expect(exit).toHaveBeenLastCalledWith(1);
  });

  it('takes one Ctrl-C that arrives twice within moments (terminal and npm) as one: the drain goes on', async () => {
    const { coordinator, registry, exit, log } = setup();
    registry.begin('POST', '/qc/check');
    coordinator.handleSignal('SIGINT');
    await jest.advanceTimersByTimeAsync(5);
    coordinator.handleSignal('SIGINT');
    expect(log).toContainEqual(expect.objectContaining({ kind: 'signal', signal: 'SIGINT', action: 'ignore' }));
    expect(coordinator.state).toBe('draining');
    expect(exit).not.toHaveBeenCalled();
  });

  it('lingers after a handoff: serves on (delaying, readiness 503) until every connection closed, then drains and exits 0', async () => {
    const { coordinator, exit, phases } = setup();
    let connections = 2;
    const wakes = new Set<() => void>();
    const close = () => {
      connections -= 1;
      for (const wake of wakes) wake();
    };
    const stopped = coordinator.stop('handed over to pid 42', {
      linger: { maxMs: 10_000, settled: () => connections === 0, subscribe: (wake) => (wakes.add(wake), () => wakes.delete(wake)) },
    });
    expect(coordinator.state).toBe('delaying');
    expect(coordinator.snapshot()).toMatchObject({ phase: 'draining', ready: false, admitting: true });
    close();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(coordinator.state).toBe('delaying');
    close();
    await stopped;
    expect(phases()).toEqual(['ready', 'delaying', 'draining', 'cleaning', 'stopped']);
    expect(wakes.size).toBe(0);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('ends the lingering at maxMs when a connection stays open, then drains as usual', async () => {
    const { coordinator, exit, log } = setup();
    const stopped = coordinator.stop('handed over', { linger: { maxMs: 3_000, settled: () => false, subscribe: () => () => undefined } });
    await jest.advanceTimersByTimeAsync(2_999);
    expect(coordinator.state).toBe('delaying');
    await jest.advanceTimersByTimeAsync(1);
    await stopped;
    expect(log).toContainEqual(expect.objectContaining({ kind: 'phase', state: 'draining', reason: 'linger time up' }));
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('runs every hook even when one throws and one hangs, each bounded by its timeout', async () => {
    const { coordinator, exit, log } = setup();
    const last = jest.fn();
    coordinator.addHook({ name: 'throws', run: () => Promise.reject(new Error('browser gone')) });
    coordinator.addHook({ name: 'hangs', run: () => new Promise<void>(() => undefined), timeoutMs: 2_000 });
    coordinator.addHook({ name: 'last', run: last });
    void coordinator.stop('test');
    await jest.advanceTimersByTimeAsync(1_999);
    expect(last).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(last).toHaveBeenCalledTimes(1);
    const hooks = log.filter((e) => e.kind === 'hook');
    expect(hooks).toEqual([
      expect.objectContaining({ name: 'throws', outcome: 'failed', error: 'browser gone' }),
      expect.objectContaining({ name: 'hangs', outcome: 'timed out', durationMs: 2_000 }),
      expect.objectContaining({ name: 'last', outcome: 'ok' }),
    ]);
    expect(exit).toHaveBeenCalledWith(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('runs the sequence once however often it is asked to stop', async () => {
    const { coordinator, exit } = setup();
    const hook = jest.fn();
    coordinator.addHook({ name: 'once', run: hook });
    const first = coordinator.stop('a');
    expect(coordinator.stop('b')).toBe(first);
    await first;
    expect(hook).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledTimes(1);
  });

  it('tells state listeners about each change', async () => {
    const { coordinator } = setup();
    const seen: string[] = [];
    coordinator.onStateChange((state, previous) => seen.push(`${previous}->${state}`));
    await coordinator.stop('test');
    expect(seen).toEqual(['ready->draining', 'draining->cleaning', 'cleaning->stopped']);
  });
});
