import { InFlightRegistry } from './in-flight-registry';
import { ShutdownCoordinator } from './shutdown-coordinator';
import type { ShutdownDeps } from './shutdown-events';
import { shutdownHealth } from './shutdown-health';

function setup() {
  let now = 1_000;
  const exits: number[] = [];
  const deps: ShutdownDeps = {
    now: () => now,
    setTimer: () => 0,
    clearTimer: () => undefined,
    exit: (code) => exits.push(code),
    log: () => undefined,
  };
  const registry = new InFlightRegistry(() => now);
  const coordinator = new ShutdownCoordinator(registry, { timeoutMs: 5_000, delayMs: 0, hookTimeoutMs: 1_000 }, deps);
  return { registry, coordinator, advance: (ms: number) => (now += ms) };
}

describe('shutdownHealth', () => {
  it('is down while starting, up once started, with the pid it was given', () => {
    const { coordinator } = setup();
    expect(shutdownHealth(coordinator, 42)).toMatchObject({ status: 'down', phase: 'starting', pid: 42 });
    coordinator.markStarted();
    expect(shutdownHealth(coordinator, 42)).toEqual({
      status: 'up', phase: 'ready', inFlight: 0, oldestInFlightMs: 0, drainingSince: null, deadline: null, pid: 42,
    });
  });

  it('is down while draining and names the work in flight, when draining began and the deadline', () => {
    const { registry, coordinator, advance } = setup();
    coordinator.markStarted();
    registry.begin('GET', '/slow');
    advance(300);
    void coordinator.stop('test');
    expect(shutdownHealth(coordinator, 7)).toEqual({
      status: 'down', phase: 'draining', inFlight: 1, oldestInFlightMs: 300,
      drainingSince: new Date(1_300).toISOString(), deadline: new Date(6_300).toISOString(), pid: 7,
    });
  });
});
