/** One nginx directive with the block path it sits in (e.g. `http > upstream edu_agents`). */
export interface NginxDirective {
  readonly name: string;
  readonly args: readonly string[];
  readonly context: readonly string[];
}

/** Tokenises an nginx config into directives with their enclosing blocks. Enough for doctor's checks. */
export function parseNginx(text: string): NginxDirective[] {
  const out: NginxDirective[] = [];
  const stack: string[] = [];
  let words: string[] = [];
  const tokens = text.replace(/#[^\n]*/g, '').match(/"[^"]*"|'[^']*'|[{};]|[^\s{};]+/g) ?? [];
  for (const token of tokens) {
    if (token === '{') {
      stack.push(words.join(' '));
      words = [];
    } else if (token === '}') {
      stack.pop();
      words = [];
    } else if (token === ';') {
      if (words.length) out.push({ name: words[0], args: words.slice(1), context: [...stack] });
      words = [];
    } else {
      words.push(token.replace(/^(["'])(.*)\1$/, '$2'));
    }
  }
  return out;
}

/** Parses an nginx time (`60s`, `60` = seconds, `1m`, `500ms`, `1m30s`). */
export function parseNginxTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}
