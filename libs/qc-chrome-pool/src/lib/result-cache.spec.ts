import { percentile, PoolCounters } from './pool-stats';
import { ResultCache } from './result-cache';

const input = (html: string, width = 1280) => ({ html, viewport: { width, height: 800 }, timeoutMs: 1000 });

describe('ResultCache', () => {
  it('keys by kind, viewport and content, not by timeout', () => {
    const key = ResultCache.key('check', input('<p>a</p>'));
    expect(ResultCache.key('check', { ...input('<p>a</p>'), timeoutMs: 5 })).toBe(key);
    expect(ResultCache.key('screenshot', input('<p>a</p>'))).not.toBe(key);
    expect(ResultCache.key('check', input('<p>a</p>', 800))).not.toBe(key);
    expect(ResultCache.key('check', input('<p>b</p>'))).not.toBe(key);
  });

  it('is bounded by bytes as well as entries and counts hits and misses', () => {
    const cache = new ResultCache(10, 100);
    cache.set('a', Buffer.alloc(60));
    cache.set('b', Buffer.alloc(60));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toHaveLength(60);
    expect(cache.bytes).toBe(60);
    expect({ hits: cache.hits, misses: cache.misses, entries: cache.entries }).toEqual({ hits: 1, misses: 1, entries: 1 });
    cache.clear();
    expect(cache.entries).toBe(0);
  });
});

describe('render time percentiles', () => {
  it('uses nearest rank over a bounded window', () => {
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    const counters = new PoolCounters(3);
    for (const ms of [100, 1, 2, 3]) counters.recordRender(ms);
    expect(counters.percentiles()).toEqual({ p50: 2, p95: 3, samples: 3 });
  });
});
