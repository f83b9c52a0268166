/** A parsed unit file: section -> key -> values (a key may repeat). */
export type UnitFile = Map<string, Map<string, string[]>>;

/** Parses a systemd unit file (INI with repeatable keys, `\` line continuations). */
export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]) ?? new Map();
      unit.set(header[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !section) continue;
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** The last value of `key` in `[section]` (systemd's "last one wins" for scalars). */
export function unitValue(unit: UnitFile, section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  return values?.[values.length - 1];
}

const UNIT_MS: Record<string, number> = { us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };

/** Parses a unit-file time span: a bare number means seconds (`30`, `30s`, `1min 30s`, `500ms`). */
export function parseUnitTimespan(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('').replace(/\s/g, '') !== t.replace(/\s/g, '')) return undefined;
  let total = 0;
  for (const p of parts) {
    const f = UNIT_MS[p[2]];
    if (f === undefined) return undefined;
    total += Number(p[1]) * f;
  }
  return Math.round(total);
}
