import { runGraceful } from '../restart/graceful.flow';
import type { RestartSettings } from '../restart/restart.types';
import type { StepEvent } from '../restart/step-event';
import { FakeInstanceManager, fakeWorld, type FakeScript } from './fake-instance-manager';

/** The health URL of the single fake instance. */
export const FAKE_URL = 'http://127.0.0.1:8000/health';

/** Settings of the flow specs: short bounds on the fake clock. */
export const FAKE_SETTINGS: RestartSettings = { mode: 'auto', timeoutMs: 5_000, healthyCount: 3, force: false, intervalMs: 50, checkTimeoutMs: 2_000 };

/** `runGraceful` against one fake instance (name `0`, pid 100) on a fake clock, recording its calls and step events. */
export function fakeGracefulRun(script: FakeScript, overrides: Partial<RestartSettings> = {}) {
  const clock = { t: 0 };
  const calls: string[] = [];
  const instance = new FakeInstanceManager('0', clock, calls, script);
  const events: StepEvent[] = [];
  const world = fakeWorld({ [FAKE_URL]: instance }, clock);
  const run = () => runGraceful({ instance: '0', url: FAKE_URL, manager: instance }, { ...FAKE_SETTINGS, ...overrides }, { ...world, emit: (e) => events.push(e) });
  return { run, calls, events, clock, instance, world };
}

/** `step:status` of every finished step, in order. */
export const stepEnds = (events: StepEvent[]) => events.flatMap((e) => (e.type === 'step-end' ? [`${e.step}:${e.status}`] : []));
