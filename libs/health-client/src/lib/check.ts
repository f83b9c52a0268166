import { classify } from './classify';
import { extractHandoff } from './handoff-facts';
import type { CheckOptions, HealthResult } from './health.types';

/** Default per-request timeout of {@link check}. */
export const DEFAULT_CHECK_TIMEOUT_MS = 2000;

/**
 * Asks one health endpoint once and classifies the answer. Never throws: a network
 * error or a timeout is `unreachable`, an unparseable body is `down`.
 *
 * @example
 * const r = await check('http://127.0.0.1:8000/health');
 * if (r.state === 'ready') console.log(`pid ${r.pid} ready in ${r.latencyMs} ms`);
 */
export async function check(url: string, options: CheckOptions = {}): Promise<HealthResult> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? (() => performance.now());
  const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS));
  const started = now();
  const signal = AbortSignal.timeout(timeoutMs);
  let httpStatus: number;
  let text: string;
  try {
    const response = await doFetch(url, { signal, headers: { accept: 'application/json', connection: 'close' } });
    httpStatus = response.status;
    text = await response.text();
  } catch (error) {
    return unreachable(describeFailure(error, timeoutMs), now() - started);
  }
  const latencyMs = now() - started;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the operator, classify as down below.
    return { state: 'down', httpStatus, body: text, latencyMs, phase: undefined, pid: undefined, inFlight: undefined, reason: `HTTP ${httpStatus} with a body that is not JSON` };
  }
  const handoff = extractHandoff(body);
  return { httpStatus, body, latencyMs, ...classify(httpStatus, body), ...(handoff && { handoff }) };
}

function unreachable(reason: string, latencyMs: number): HealthResult {
  return { state: 'unreachable', httpStatus: undefined, body: undefined, latencyMs, phase: undefined, pid: undefined, inFlight: undefined, reason };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  // Duck-typed on purpose: errors from fetch may come from another realm (test runners).
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(error);
}
