import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { QcJobInput } from './qc-input';
import type { QcJobKind } from './qc-job.types';
import type { QcReport } from './qc-report.types';

/** A cached result: the report of a check, the PNG of a (possibly annotated) screenshot. */
export type CacheEntry = QcReport | Buffer;
type Entry = CacheEntry;

/**
 * Format of an exported cache. Bump it whenever a report for the same input may
 * change (new checks, another report shape): a process with another format drops
 * the inherited entries instead of serving stale reports.
 */
export const QC_CACHE_FORMAT = 2;

/** The result cache as one process hands it to the next (structured-clone data), most recently used first. */
export interface QcCacheExport {
  format: number;
  entries: Array<[key: string, value: QcReport | Uint8Array]>;
}

/** What an import took. */
export interface QcCacheImport {
  imported: number;
  dropped: number;
  reason?: string;
}

/** LRU of finished results, bounded by entry count and by bytes, keyed by a hash of content + options. */
export class ResultCache {
  private readonly lru: LRUCache<string, Entry>;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.lru = new LRUCache<string, Entry>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (value) => Math.max(1, Buffer.isBuffer(value) ? value.length : JSON.stringify(value).length),
    });
  }

  static key(kind: QcJobKind, input: QcJobInput): string {
    return createHash('sha256')
      .update(`${kind}\n${input.viewport.width}x${input.viewport.height}\n`)
      .update(input.html)
      .digest('hex');
  }

  get(key: string): Entry | undefined {
    const value = this.lru.get(key);
    if (value === undefined) this.misses += 1;
    else this.hits += 1;
    return value;
  }

  set(key: string, value: Entry): void {
    this.lru.set(key, value);
  }

  get entries(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  clear(): void {
    this.lru.clear();
  }

  /** Every entry, most recently used first. */
  export(): QcCacheExport {
    return { format: QC_CACHE_FORMAT, entries: [...this.lru.entries()] };
  }

  /**
   * Adds exported entries within this cache's own bounds: the most recently used
   * ones win, entries already here stay the most recent. A snapshot of another
   * format, or not a snapshot at all, is dropped whole with the reason.
   */
  import(snapshot: unknown): QcCacheImport {
    if (!isExport(snapshot)) return { imported: 0, dropped: 0, reason: 'not a QC cache export' };
    if (snapshot.format !== QC_CACHE_FORMAT) {
      return { imported: 0, dropped: snapshot.entries.length, reason: `cache format ${snapshot.format}, this build reads ${QC_CACHE_FORMAT}` };
    }
    const fresh = snapshot.entries.filter(([key]) => !this.lru.has(key));
    // What is here stays the most recent, then the inherited entries in their
    // order; inserted least recent first, the LRU's bounds drop the oldest.
    const order: Array<[string, Entry]> = [...this.lru.entries(), ...fresh.map(([k, v]): [string, Entry] => [k, v instanceof Uint8Array ? Buffer.from(v) : v])];
    this.lru.clear();
    for (const [key, value] of order.reverse()) this.lru.set(key, value);
    const imported = fresh.filter(([key]) => this.lru.has(key)).length;
    return { imported, dropped: snapshot.entries.length - imported };
  }
}

function isExport(value: unknown): value is QcCacheExport {
  const v = value as QcCacheExport;
  return typeof value === 'object' && value !== null && typeof v.format === 'number' && Array.isArray(v.entries)
    && v.entries.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'object' && e[1] !== null);
}
