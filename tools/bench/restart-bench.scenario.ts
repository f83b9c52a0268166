// What every set-up of restart-bench.ts provides, and the helpers they share.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CLI_MAIN, LOAD_API_ENV, runCli, waitFor, WORKSPACE, type RunningNginx } from '@edu-agents/e2e-support';
import { join } from 'node:path';
import { parseLogEvents, type LogEvent } from './restart-bench.events';

/** The API as every scenario runs it: QC on (one Chromium, two pages), JSON logs (the timeline reads them). */
export const BENCH_API_ENV = { ...LOAD_API_ENV, LOG_FORMAT: 'json' } as const;

/** How one restart went. Times are epoch ms. */
export interface RestartOutcome {
  /** The restart began: the first signal sent, or the CLI started. */
  startAt: number;
  /** It was over: every old process gone and every new one ready (or the CLI returned). */
  endAt: number;
  oldPids: number[];
  newPids: number[];
  /** When the benchmark itself sent each old pid its signal (empty when a tool did). */
  signalAt: number[];
  /** How the tool or the benchmark restarted, and anything that went wrong. */
  note: string;
}

/** One set-up, serving and ready for load on `port`. */
export interface Scenario {
  /** Where the load goes: the instance itself, or nginx in front of two. */
  port: number;
  /** Names the markers as a handoff does (successor ready, predecessor exit). */
  handoff: boolean;
  restart(): Promise<RestartOutcome>;
  /** Everything its processes logged so far (their JSON lines are the timeline's markers). */
  logs(): string;
  /** Exits the scenario saw, epoch ms by pid. */
  exits: ReadonlyMap<number, number>;
  nginx?: RunningNginx;
  teardown(): Promise<void>;
}

/** Options of a run that a set-up may use. */
export interface SetupOptions {
  /** Another nginx server config for the rolling set-ups (default the shipped one), e.g. an older version to compare. */
  nginxConf?: string;
  /** nginx in a session and scheduling group of its own, as systemd starts a service (default), or in this process's. */
  nginxSession?: 'own' | 'shared';
  /** nginx's `worker_processes` (default 1). */
  nginxWorkers?: number | 'auto';
  /** Environment every process of the set-up gets on top of its own (the instruments' probe). */
  env?: Record<string, string>;
}

export interface ScenarioDef {
  name: string;
  label: string;
  group: 'single' | 'rolling';
  setup(dir: string, options: SetupOptions): Promise<Scenario>;
}

/**
 * The API build a set-up starts: a variant's `BENCH_API_MAIN` (a `main.js` relative to the
 * workspace, e.g. another build of the API to compare in the same run), else the built API.
 * Its successors start from the same file (a hot handoff runs the predecessor's argv again).
 */
export function apiMainOf(options: SetupOptions): string | undefined {
  return options.env?.['BENCH_API_MAIN'];
}

/** Reads files that may not exist yet (logs of processes a tool starts). */
export function readLogs(...files: string[]): string {
  return files.map((file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  }).join('\n');
}

/** Waits until `logs()` holds an event that passes `match`; returns it. */
export function waitForEvent(logs: () => string, what: string, match: (e: LogEvent) => boolean, timeoutMs = 120_000): Promise<LogEvent> {
  return waitFor(what, () => parseLogEvents(logs()).find(match), timeoutMs);
}

/** Whether the built CLI knows `--mode` (the hot handoff's CLI side), so the run can say what it measured. */
export function cliHasModes(): boolean {
  const help = spawnSync(process.execPath, [CLI_MAIN, 'rolling', '--help'], { cwd: WORKSPACE, encoding: 'utf8' });
  return /--mode\b/.test(help.stdout);
}

/** The CLI's common options for a bench run: generous bounds (a saturated host answers slowly), JSON result. */
export const CLI_BOUNDS = ['--timeout', '120s', '--interval', '100ms', '--check-timeout', '10s', '--json'];

/** Runs the CLI; a non-zero exit is a failed restart (the row says so), not the end of the benchmark. */
export async function runCliRestart(args: string[], env: Record<string, string> = {}): Promise<{ startAt: number; endAt: number; result: Record<string, unknown>; note: string }> {
  const run = await runCli([...args, ...CLI_BOUNDS], { env }).done;
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    // no JSON result: the note carries stderr
  }
  const note = run.code === 0 ? '' : `RESTART FAILED: restart-cli exited with ${run.code}: ${run.stderr.trim().split('\n').slice(-6).join(' | ')}`;
  return { startAt: run.startMs, endAt: run.endMs, result, note };
}

/** The `%i` pid file of an instance named by its port. */
export const pidFileOf = (dir: string, port: number | '%i') => join(dir, `api-${port}.pid`);
