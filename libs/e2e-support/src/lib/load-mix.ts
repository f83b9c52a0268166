import type { LoadRequest } from './load-generator';

/**
 * The mix of the zero-downtime proof and the restart benchmark: request i is a
 * `POST /qc/check` when i is a multiple of `qcEvery`, else `GET /qc-stats` (a
 * real GET route of the API). Each QC body is distinct, so the result cache
 * cannot answer it and Chrome really renders; the HTML stays tiny.
 */
export function qcMix(qcEvery: number): (index: number) => LoadRequest {
  if (!Number.isInteger(qcEvery) || qcEvery < 1) throw new Error(`qcEvery must be a positive integer, got ${qcEvery}`);
  return (index) =>
    index % qcEvery === 0
      ? { label: 'POST /qc/check', method: 'POST', path: '/qc/check', body: JSON.stringify({ html: `<main><h1>Lesson ${index}</h1><p>Fractions, part ${index}.</p></main>` }) }
      : { label: 'GET /qc-stats', method: 'GET', path: '/qc-stats' };
}

/**
 * The API's environment in the proof and the benchmark: QC on with one
 * browser and two pages (real Chromium), a job timeout above any render on a
 * busy machine, so a slow render is slow and not a 504 (which nginx does not retry).
 */
export const LOAD_API_ENV = {
  QC_ENABLED: 'true', QC_BROWSERS: 1, QC_PAGES_PER_BROWSER: 2, QC_QUEUE_MAX: 64,
  QC_JOB_TIMEOUT_MS: 30_000, LOG_FORMAT: 'text', HOST: '127.0.0.1',
} as const;
