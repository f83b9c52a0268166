// V8's --trace-gc-nvp lines, as scavenge.bench.ts reads them from its server's output.

/** One scavenge as V8's --trace-gc-nvp line tells it (ms since the isolate started; bytes). */
export interface Scavenge {
  atMs: number;
  pauseMs: number;
  survivedBytes: number;
  promotedBytes: number;
}

/** The scavenges (`gc=s`) among V8's --trace-gc-nvp lines. */
export function parseScavenges(output: string): Scavenge[] {
  const out: Scavenge[] = [];
  for (const line of output.split('\n')) {
    if (!/\bgc=s\b/.test(line)) continue;
    const at = /\s(\d+(?:\.\d+)?) ms: pause=/.exec(line);
    const field = (name: string) => Number(new RegExp(`\\b${name}=(\\d+(?:\\.\\d+)?)`).exec(line)?.[1] ?? NaN);
    const scavenge = { atMs: Number(at?.[1] ?? NaN), pauseMs: field('pause'), survivedBytes: field('new_space_survived'), promotedBytes: field('promoted') };
    if (Object.values(scavenge).every(Number.isFinite)) out.push(scavenge);
  }
  return out;
}
