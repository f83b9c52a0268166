import { QcInputError } from './qc-errors';

/** One QC job: the HTML to render, the viewport and the job timeout. */
export interface QcJobInput {
  html: string;
  viewport: { width: number; height: number };
  timeoutMs: number;
}

export const QC_DEFAULT_VIEWPORT = Object.freeze({ width: 1280, height: 800 });
const VIEWPORT_MIN = 200;
const VIEWPORT_MAX = 3840;
const TIMEOUT_MIN = 100;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new QcInputError(field, `must be an integer in ${min}..${max}`);
  }
  return value;
}

function rejectUnknownKeys(value: Record<string, unknown>, allowed: string[], prefix: string): void {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined) {
    throw new QcInputError(`${prefix}${unknown}`, `unknown field; allowed: ${allowed.join(', ')}`);
  }
}

/**
 * Validates a request body into a job. Throws {@link QcInputError} naming the field.
 * @example parseQcJobInput({ html: '<p>hi</p>' }, { maxTimeoutMs: 30000, defaultTimeoutMs: 10000 })
 */
export function parseQcJobInput(body: unknown, limits: { maxTimeoutMs: number; defaultTimeoutMs: number }): QcJobInput {
  if (!isRecord(body)) throw new QcInputError('body', 'must be a JSON object');
  rejectUnknownKeys(body, ['html', 'viewport', 'timeoutMs'], '');
  if (body['html'] === undefined) throw new QcInputError('html', 'is required');
  if (typeof body['html'] !== 'string') throw new QcInputError('html', 'must be a string');
  if (body['html'].trim() === '') throw new QcInputError('html', 'must not be empty');
  let viewport: QcJobInput['viewport'] = { ...QC_DEFAULT_VIEWPORT };
  if (body['viewport'] !== undefined) {
    const raw = body['viewport'];
    if (!isRecord(raw)) throw new QcInputError('viewport', 'must be an object { width, height }');
    rejectUnknownKeys(raw, ['width', 'height'], 'viewport.');
    viewport = {
      width: raw['width'] === undefined ? viewport.width : integerIn(raw['width'], 'viewport.width', VIEWPORT_MIN, VIEWPORT_MAX),
      height: raw['height'] === undefined ? viewport.height : integerIn(raw['height'], 'viewport.height', VIEWPORT_MIN, VIEWPORT_MAX),
    };
  }
  const timeoutMs =
    body['timeoutMs'] === undefined
      ? limits.defaultTimeoutMs
      : integerIn(body['timeoutMs'], 'timeoutMs', TIMEOUT_MIN, limits.maxTimeoutMs);
  return { html: body['html'], viewport, timeoutMs };
}

/**
 * Validates a `POST /qc/screenshot` body: a job plus an optional boolean `annotate`.
 * @example parseQcScreenshotInput({ html: '<p>hi</p>', annotate: true }, limits) // { input, annotate: true }
 */
export function parseQcScreenshotInput(
  body: unknown,
  limits: { maxTimeoutMs: number; defaultTimeoutMs: number },
): { input: QcJobInput; annotate: boolean } {
  if (!isRecord(body)) throw new QcInputError('body', 'must be a JSON object');
  const { annotate = false, ...job } = body;
  if (typeof annotate !== 'boolean') throw new QcInputError('annotate', 'must be true or false');
  return { input: parseQcJobInput(job, limits), annotate };
}
