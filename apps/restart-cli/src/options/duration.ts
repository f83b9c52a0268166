import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * Parses `60s`, `500ms`, `2m`, `1h` or a plain number of milliseconds.
 * Returns `undefined` for anything else.
 * @example parseDuration('2m') // 120000
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * UNITS[match[2] ?? 'ms'];
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** Commander argument parser for duration options; the error names the accepted forms. */
export function durationArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(`'${text}' is not a duration (use e.g. 60s, 500ms, 2m or plain milliseconds).`);
  return ms;
}

/** Commander argument parser for positive integers. */
export function positiveIntArg(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new InvalidArgumentError(`'${text}' is not a positive integer.`);
  return n;
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `2m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
