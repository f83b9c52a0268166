/** A `--variant name:KEY=value,...` of a benchmark: the same set-ups again with more API environment. */
export interface BenchVariant {
  name: string;
  env: Record<string, string>;
}

/** Parses `name:KEY=value[,KEY=value]`; throws naming what is wrong. */
export function parseVariant(spec: string): BenchVariant {
  const m = /^([\w.-]+):(.+)$/.exec(spec);
  if (!m) throw new Error(`--variant ${spec}: expected name:KEY=value[,KEY=value]`);
  const env = Object.fromEntries(m[2].split(',').map((kv) => {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--variant ${spec}: ${kv} is not KEY=value`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
  return { name: m[1], env };
}
