import { percentile } from './load-report';
import { ClientPool, dueRange, plannedCount, scheduledAt } from './load-schedule';

describe('load schedule (pure)', () => {
  it('schedules request i at i/rate seconds after t0 and plans ceil(duration x rate) requests', () => {
    expect([0, 1, 200, 399].map((i) => scheduledAt(i, 200))).toEqual([0, 5, 1_000, 1_995]);
    expect(plannedCount(200, 2_000)).toBe(400);
    expect(plannedCount(3, 1_001)).toBe(4);
    expect(() => plannedCount(0, 1_000)).toThrow('must be positive');
  });

  it('sends everything due at once after a stall (open loop) and never more than planned', () => {
    expect(dueRange(0, 0, 200, 400)).toEqual({ from: 0, to: 1 });
    expect(dueRange(1, 4.9, 200, 400)).toEqual({ from: 1, to: 1 });
    // 100 ms late: 20 requests are due in one go instead of being skipped or spread out.
    expect(dueRange(1, 100, 200, 400)).toEqual({ from: 1, to: 21 });
    expect(dueRange(390, 10_000, 200, 400)).toEqual({ from: 390, to: 400 });
  });

  it('gives a request its base client, an overflow client when that one is busy, and none when all are busy', () => {
    const pool = new ClientPool(2, 3);
    expect(pool.acquire(0)).toEqual({ client: 0, overflow: false });
    expect(pool.acquire(1)).toEqual({ client: 1, overflow: false });
    expect(pool.acquire(2)).toEqual({ client: 2, overflow: true }); // client 0 busy: a new one
    expect(pool.acquire(3)).toEqual({ client: undefined, overflow: true }); // bound reached
    pool.release(0);
    expect(pool.acquire(4)).toEqual({ client: 0, overflow: false });
    pool.release(2);
    expect(pool.acquire(5)).toEqual({ client: 2, overflow: true }); // client 1 busy: the idle overflow client
    expect({ size: pool.size, overflow: pool.overflowPicks, exhausted: pool.exhaustedPicks, inUse: pool.inUse }).toEqual({ size: 3, overflow: 3, exhausted: 1, inUse: 3 });
    pool.release(1);
    pool.release(1 - 1);
    expect(() => pool.release(1)).toThrow('released twice');
  });

  it('takes percentiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 0.5), percentile(sorted, 0.99), percentile([], 0.5), percentile([7], 0.99)]).toEqual([50, 99, 0, 7]);
  });
});
