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
