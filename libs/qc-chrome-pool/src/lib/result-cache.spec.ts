import { percentile, PoolCounters } from './pool-stats';
import { deserialize, serialize } from 'node:v8';
import { QC_CACHE_FORMAT, ResultCache } from './result-cache';

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

/** A value as it arrives over a child process channel with `serialization: 'advanced'` (the v8 serializer). */
const v8Clone = <T>(value: T): T => deserialize(serialize(value)) as T;

describe('ResultCache handed to a successor', () => {
  const report = (title: string) => ({ ok: true, title }) as never;

  it('exports most recently used first and imports into a new cache in the same order, Buffers included', () => {
    const old = new ResultCache(10, 10_000);
    old.set('a', report('a'));
    old.set('png', Buffer.from([1, 2, 3]));
    old.set('b', report('b'));
    old.get('a');
    const snapshot = v8Clone(old.export());
    expect(snapshot.entries.map(([k]) => k)).toEqual(['a', 'b', 'png']);
    const next = new ResultCache(10, 10_000);
    expect(next.import(snapshot)).toEqual({ imported: 3, dropped: 0 });
    expect(next.export().entries.map(([k]) => k)).toEqual(['a', 'b', 'png']);
    expect(Buffer.isBuffer(next.get('png'))).toBe(true);
    expect(next.get('b')).toEqual(report('b'));
  });

  it('keeps within its own bounds: the most recently used entries win', () => {
    const old = new ResultCache(10, 10_000);
    for (const k of ['a', 'b', 'c', 'd']) old.set(k, report(k));
    const next = new ResultCache(2, 10_000);
    expect(next.import(old.export())).toEqual({ imported: 2, dropped: 2 });
    expect(next.export().entries.map(([k]) => k)).toEqual(['d', 'c']);
  });

  it('keeps what it already has as the most recent entries', () => {
    const next = new ResultCache(3, 10_000);
    next.set('mine', report('mine'));
    next.import({ format: QC_CACHE_FORMAT, entries: [['x', report('x')], ['y', report('y')], ['z', report('z')]] });
    expect(next.export().entries.map(([k]) => k)).toEqual(['mine', 'x', 'y']);
  });

  it('drops a cache of another format whole, with the reason, and ignores what is not an export', () => {
    const next = new ResultCache(10, 10_000);
    expect(next.import({ format: QC_CACHE_FORMAT + 1, entries: [['a', report('a')]] })).toEqual({
      imported: 0, dropped: 1, reason: `cache format ${QC_CACHE_FORMAT + 1}, this build reads ${QC_CACHE_FORMAT}`,
    });
    expect(next.import({ entries: 'nope' })).toEqual({ imported: 0, dropped: 0, reason: 'not a QC cache export' });
    expect(next.entries).toBe(0);
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
