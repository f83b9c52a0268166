// The files of a restart-bench run, as the analysis scripts (slow-by-phase, p99-floor) read them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The restart-bench run kept in `dir` (tools/bench/results/restart-<stamp>): its restart-bench.json. */
export function benchRunOf(dir) {
  const file = join(dir, 'restart-bench.json');
  if (!existsSync(file)) throw new Error(`${file} does not exist: give the directory of a restart-bench run`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The rows of the restart-bench run kept in `dir`. */
export function benchRowsOf(dir) {
  return benchRunOf(dir).rows ?? [];
}

/** The row's requests file (kept with --requests), or undefined when there is none. */
export function requestsFileOf(row) {
  const file = row.timeline?.replace(/\.svg$/, '.requests.json');
  return file && existsSync(file) ? file : undefined;
}

/** A hot handoff's row, one instance or rolling: its markers name a successor's ready (pm2's do not). */
export const isHandoffRow = (row) => row.markers?.some((m) => m.label.startsWith('successor ready')) ?? false;

/** A row's scenario and its tag: `handoff@fifo` is `handoff` with the variant or load placement `fifo` (`-` without). */
export function scenarioOf(row) {
  const at = row.scenario.indexOf('@');
  return at < 0 ? { base: row.scenario, tag: '-' } : { base: row.scenario.slice(0, at), tag: row.scenario.slice(at + 1) };
}

/** A QC render (`POST /qc/...`) among a requests file's requests. */
export const isQcRender = (r) => r.label?.startsWith('POST /qc') ?? false;
