import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { QcJobInput } from './qc-input';
import type { QcJobKind } from './qc-job.types';
import type { QcReport } from './qc-report.types';

type Entry = QcReport | Buffer;

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
}
