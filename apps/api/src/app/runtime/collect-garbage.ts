import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What one full collection did: its length, and the heap in use before and after (MB). */
export interface Collection {
  ms: number;
  usedMbBefore: number;
  usedMbAfter: number;
}

type Gc = () => void;

/**
 * V8's `gc()` without `--expose-gc` on the command line (a successor runs with its
 * predecessor's exact arguments): the flag is set for one new context, which
 * hands out its `gc`, and unset again, so no other context gets it.
 */
function exposedGc(): Gc {
  const own = (globalThis as { gc?: Gc }).gc;
  if (typeof own === 'function') return own;
  setFlagsFromString('--expose-gc');
  try {
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') throw new Error('V8 did not expose gc() with --expose-gc set at run time');
    return gc as Gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * One full, synchronous garbage collection. A successor runs it before it
 * listens: what its start left in the young generation (Nest, the pool, the
 * warm-up requests) is then promoted or freed there, at the start's priority,
 * and the first scavenge after the switch copies only what requests left, as in
 * steady state (tools/bench/README.md, "The successor's first scavenge").
 */
export function collectGarbage(): Collection {
  const gc = exposedGc();
  const before = getHeapStatistics().used_heap_size;
  const started = performance.now();
  gc();
  const ms = Math.round((performance.now() - started) * 10) / 10;
  return { ms, usedMbBefore: mb(before), usedMbAfter: mb(getHeapStatistics().used_heap_size) };
}
