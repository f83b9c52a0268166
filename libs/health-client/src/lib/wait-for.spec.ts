import type { HealthResult, HealthState } from './health.types';
import { waitFor } from './wait-for';
import { backoffDelay } from './backoff';

const result = (state: HealthState): HealthResult => ({
  state, httpStatus: state === 'ready' ? 200 : 503, body: {}, latencyMs: 1, phase: undefined, pid: 1, inFlight: 0, reason: undefined,
});

/** A fake clock whose sleep advances time, and a scripted sequence of answers. */
function harness(states: HealthState[]) {
  let t = 0;
  const sleeps: number[] = [];
  const seen: HealthState[] = [];
  return {
    sleeps,
    seen,
    now: () => t,
    sleep: async (ms: number) => { sleeps.push(ms); t += ms; },
    check: async () => {
      const s = states.length > 1 ? (states.shift() as HealthState) : states[0];
      seen.push(s);
      return result(s);
    },
  };
}

describe('waitFor', () => {
  it('resolves met once the predicate holds', async () => {
    const h = harness(['starting', 'starting', 'ready']);
    const out = await waitFor('u', (r) => r.state === 'ready', { timeoutMs: 10_000, ...h });
    expect(out).toMatchObject({ met: true, attempts: 3 });
    expect(out.last?.state).toBe('ready');
  });

  it('needs the given number of consecutive matches and restarts the count on a miss', async () => {
    const h = harness(['ready', 'ready', 'down', 'ready', 'ready', 'ready']);
    const out = await waitFor('u', (r) => r.state === 'ready', { timeoutMs: 10_000, consecutive: 3, ...h });
    expect(out).toMatchObject({ met: true, attempts: 6 });
  });

  it('backs off between misses up to the cap', async () => {
    const h = harness(['down']);
    await waitFor('u', (r) => r.state === 'ready', { timeoutMs: 2_000, interval: { initialMs: 100, factor: 2, maxMs: 500 }, ...h });
    expect(h.sleeps.slice(0, 5)).toEqual([100, 200, 400, 500, 500]);
  });

  it('gives up at the deadline with the last answer', async () => {
    const h = harness(['draining']);
    const out = await waitFor('u', (r) => r.state === 'ready', { timeoutMs: 1_000, ...h });
    expect(out.met).toBe(false);
    expect(out.last?.state).toBe('draining');
    expect(h.now()).toBeLessThanOrEqual(1_000);
  });

  it('honours an absolute deadline', async () => {
    const h = harness(['down']);
    const out = await waitFor('u', () => false, { deadline: 300, interval: { initialMs: 100, factor: 1 }, ...h });
    expect(out).toMatchObject({ met: false, attempts: 4 });
  });

  it('reports every answer to onResult', async () => {
    const h = harness(['starting', 'ready']);
    const states: string[] = [];
    await waitFor('u', (r) => r.state === 'ready', { timeoutMs: 1_000, onResult: (r) => states.push(r.state), ...h });
    expect(states).toEqual(['starting', 'ready']);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially and stops at the cap', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, { initialMs: 100, factor: 2, maxMs: 1000 }))).toEqual([100, 200, 400, 800, 1000]);
  });
});
