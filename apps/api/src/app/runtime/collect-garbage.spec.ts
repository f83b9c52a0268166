import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collectGarbage } from './collect-garbage';

const youngUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? Number.NaN;

describe('collectGarbage', () => {
  it('runs a full collection that empties the young generation of what was allocated, without --expose-gc', () => {
    collectGarbage();
    const empty = youngUsed();
    // Less than the young generation's smallest size (1 MB on 64 bits), so no scavenge runs meanwhile.
    const kept = Array.from({ length: 3_000 }, (_, i) => ({ i, text: `lesson ${i}` }));
    const allocated = youngUsed() - empty;

    const done = collectGarbage();
    const left = youngUsed() - empty;

    expect(allocated).toBeGreaterThan(100 * 1024);
    expect(kept.length).toBe(3_000); // alive through the collection: moved out of the young generation, not freed
    expect(left).toBeLessThan(allocated / 10);
    expect(done).toEqual({ ms: expect.any(Number), usedMbBefore: expect.any(Number), usedMbAfter: expect.any(Number) });
  });

  it('exposes gc() to no context after it ran', () => {
    collectGarbage();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
