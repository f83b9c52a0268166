const UNIT_MS: Record<string, number> = {
  us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000, min: 60_000, m: 60_000, h: 3_600_000, hr: 3_600_000, d: 86_400_000,
};

/**
 * Parses a time span as `systemctl show` prints it (`30s`, `1min 30s`, `500ms`,
 * `infinity`). Returns `undefined` for infinity or anything unknown.
 */
export function parseSystemdTimespan(text: string): number | undefined {
  const t = text.trim();
  if (t === '' || t === 'infinity') return undefined;
  if (/^\d+$/.test(t)) return Number(t) / 1000; // bare microseconds
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  let consumed = '';
  for (const m of t.matchAll(re)) {
    const factor = UNIT_MS[m[2]];
    if (factor === undefined) return undefined;
    total += Number(m[1]) * factor;
    consumed += m[0];
  }
  return consumed.replace(/\s/g, '') === t.replace(/\s/g, '') ? Math.round(total) : undefined;
}
