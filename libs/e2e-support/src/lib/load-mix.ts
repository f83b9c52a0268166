import type { LoadRequest } from './load-generator';

/**
 * A request mix as plain data (it crosses into the load process as JSON).
 * Request i is the first entry whose `every` divides i, else the last entry.
 * `{i}` in a path or body is replaced by i, so bodies can be distinct.
 */
export interface LoadMix {
  entries: (LoadRequest & { every?: number })[];
}

/** The function form of a mix: what to send for request number `index`. */
export function requestOf(mix: LoadMix): (index: number) => LoadRequest {
  if (mix.entries.length === 0) throw new Error('a load mix needs at least one entry');
  for (const e of mix.entries) {
    if (e.every !== undefined && (!Number.isInteger(e.every) || e.every < 1)) throw new Error(`every must be a positive integer, got ${e.every} (${e.label})`);
  }
  const fallback = mix.entries[mix.entries.length - 1];
  return (index) => {
    const entry = mix.entries.find((e) => e.every !== undefined && index % e.every === 0) ?? fallback;
    const fill = (text: string) => text.replaceAll('{i}', String(index));
    return { label: entry.label, method: entry.method, path: fill(entry.path), ...(entry.body === undefined ? {} : { body: fill(entry.body) }) };
  };
}

/** Every request a `GET /qc-stats` (a real GET route of the API that never touches Chromium). */
export const STATS_ONLY: LoadMix = { entries: [{ label: 'GET /qc-stats', method: 'GET', path: '/qc-stats' }] };

/**
 * The mix of the zero-downtime proof and the restart benchmark: request i is a
 * `POST /qc/check` when i is a multiple of `qcEvery`, else `GET /qc-stats`.
 * Each QC body is distinct, so the result cache cannot answer it and Chromium
 * really renders; the HTML stays tiny.
 */
export function qcMix(qcEvery: number): LoadMix {
  const html = '<main><h1>Lesson {i}</h1><p>Fractions, part {i}.</p></main>';
  return {
    entries: [
      { label: 'POST /qc/check', method: 'POST', path: '/qc/check', body: JSON.stringify({ html }), every: qcEvery },
      ...STATS_ONLY.entries,
    ],
  };
}

/**
 * The API's environment in the proof and the benchmark: QC on with one
 * browser and two pages (real Chromium), a job timeout above any render on a
 * busy machine, so a slow render is slow and not a 504 (which nginx does not retry),
 * and a wait for a slot as long as that, so a job queued behind slow renders (a busy
 * neighbour takes half the CPU) waits and is not a 503 after the default 15 s.
 */
export const LOAD_API_ENV = {
  QC_ENABLED: 'true', QC_BROWSERS: 1, QC_PAGES_PER_BROWSER: 2, QC_QUEUE_MAX: 64,
  QC_JOB_TIMEOUT_MS: 30_000, QC_ACQUIRE_TIMEOUT_MS: 30_000, LOG_FORMAT: 'text', HOST: '127.0.0.1',
} as const;
