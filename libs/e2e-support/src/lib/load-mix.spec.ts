import { qcMix, requestOf, STATS_ONLY } from './load-mix';

describe('load mix as data', () => {
  it('picks the first entry whose `every` divides the index, else the last entry, and fills in {i}', () => {
    const request = requestOf(qcMix(4));
    expect([0, 1, 4, 5].map((i) => request(i).label)).toEqual(['POST /qc/check', 'GET /qc-stats', 'POST /qc/check', 'GET /qc-stats']);
    expect(JSON.parse(request(8).body ?? '')).toEqual({ html: '<main><h1>Lesson 8</h1><p>Fractions, part 8.</p></main>' });
    expect(request(1)).toEqual({ label: 'GET /qc-stats', method: 'GET', path: '/qc-stats' });
  });

  it('survives a trip through JSON (what the load process receives)', () => {
    const mix = JSON.parse(JSON.stringify(qcMix(2)));
    expect(requestOf(mix)(2)).toEqual(requestOf(qcMix(2))(2));
    expect(requestOf(STATS_ONLY)(7).path).toBe('/qc-stats');
  });

  it('refuses an empty mix and an `every` that is not a positive integer', () => {
    expect(() => requestOf({ entries: [] })).toThrow('at least one entry');
    expect(() => qcMix(0) && requestOf(qcMix(0))).toThrow('every must be a positive integer, got 0');
  });
});
