// The repeats of one run, summed up: `--only a,a,a --variant x:... --variant y:...` runs a@x,
// a@y, a@x, a@y, ... taking turns, and on a noisy machine one pair decides nothing. Per
// scenario and rate: each variant's ratios, their median, and in how many pairs (the k-th row of
// a variant against the k-th of the first variant) its restart p99 was the lower one.
import { readFileSync } from 'node:fs';

/** What the summary reads of a row. */
export interface PairedRow {
  scenario: string;
  rate: number;
  failed: number;
  p99Ratio: number;
  restart: { p99Ms: number };
}

export interface VariantSummary {
  scenario: string;
  rate: number;
  variant: string;
  rows: number;
  ratios: number[];
  medianRatio: number;
  medianRestartP99Ms: number;
  failed: number;
  /** Against the first variant of the scenario: pairs compared, and those where this one's restart p99 was lower. Absent for the first. */
  versusFirst?: { variant: string; pairs: number; lowerRestartP99: number };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return Math.round((value as number) * 100) / 100;
}

/** One summary per scenario, rate and variant (the part after `@`; "-" without variants), in the order the run met them. */
export function summarizeRepeats(rows: readonly PairedRow[]): VariantSummary[] {
  const groups = new Map<string, { scenario: string; rate: number; variants: Map<string, PairedRow[]> }>();
  for (const row of rows) {
    const at = row.scenario.indexOf('@');
    const [scenario, variant] = at < 0 ? [row.scenario, '-'] : [row.scenario.slice(0, at), row.scenario.slice(at + 1)];
    const key = `${scenario} ${row.rate}`;
    const group = groups.get(key) ?? { scenario, rate: row.rate, variants: new Map<string, PairedRow[]>() };
    groups.set(key, group);
    group.variants.set(variant, [...(group.variants.get(variant) ?? []), row]);
  }
  const out: VariantSummary[] = [];
  for (const { scenario, rate, variants } of groups.values()) {
    const [firstName, firstRows] = [...variants][0] as [string, PairedRow[]];
    for (const [variant, mine] of variants) {
      const summary: VariantSummary = {
        scenario, rate, variant, rows: mine.length, ratios: mine.map((r) => r.p99Ratio),
        medianRatio: median(mine.map((r) => r.p99Ratio)), medianRestartP99Ms: median(mine.map((r) => r.restart.p99Ms)),
        failed: mine.reduce((sum, r) => sum + r.failed, 0),
      };
      if (variant !== firstName) {
        const pairs = Math.min(mine.length, firstRows.length);
        let lower = 0;
        for (let k = 0; k < pairs; k += 1) if ((mine[k] as PairedRow).restart.p99Ms < (firstRows[k] as PairedRow).restart.p99Ms) lower += 1;
        summary.versusFirst = { variant: firstName, pairs, lowerRestartP99: lower };
      }
      out.push(summary);
    }
  }
  return out;
}

/** The readable table; empty when no scenario ran more than once at a rate. */
export function repeatsMarkdown(summaries: readonly VariantSummary[]): string {
  if (!summaries.some((s) => s.rows > 1 || s.versusFirst)) return '';
  return [
    '| scenario | req/s | variant | rows | p99 restart/steady | median | median restart p99 (ms) | failed | restart p99 lower than the first variant |',
    '|---|---:|---|---:|---|---:|---:|---:|---|',
    ...summaries.map((s) => `| ${s.scenario} | ${s.rate} | ${s.variant} | ${s.rows} | ${s.ratios.join(', ')} | ${s.medianRatio} | ${s.medianRestartP99Ms} | ${s.failed} | ` +
      `${s.versusFirst ? `${s.versusFirst.lowerRestartP99} of ${s.versusFirst.pairs} pairs (vs ${s.versusFirst.variant})` : '-'} |`),
  ].join('\n');
}

// The same for a run already done:
// SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/restart-bench.pairs.ts tools/bench/results/restart-<stamp>/restart-bench.json
if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: restart-bench.pairs.ts <restart-bench.json>\n');
    process.exit(2);
  }
  let result: { rows?: PairedRow[] };
  try {
    result = JSON.parse(readFileSync(file, 'utf8')) as { rows?: PairedRow[] };
  } catch (error) {
    process.stderr.write(`cannot read ${file} as JSON: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (!Array.isArray(result.rows)) {
    process.stderr.write(`${file}: no "rows" array; is it a restart-bench.json?\n`);
    process.exit(2);
  }
  const summaries = summarizeRepeats(result.rows);
  process.stdout.write(`${JSON.stringify(summaries, null, 2)}\n`);
  process.stderr.write(`${repeatsMarkdown(summaries) || 'no scenario ran more than once at a rate'}\n`);
}
