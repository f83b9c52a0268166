import { spawn } from 'node:child_process';
import { CLI_MAIN, WORKSPACE } from './workspace';

/** What a program printed and how it ended; start and end on the caller's clock. */
export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
  startMs: number;
  endMs: number;
}

export interface ProgramOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** The clock of `startMs`/`endMs`, e.g. a load generator's `elapsed` (default Date.now). */
  clock?: () => number;
}

/** A running program: `done` once it closed its output, `output()` meanwhile. */
export interface RunningProgram {
  done: Promise<ProgramRun>;
  pid: number | undefined;
  output(): { code: number | null; stdout: string; stderr: string };
}

/** Runs a program from the workspace root and collects its output, without blocking the event loop. */
export function runProgram(file: string, args: readonly string[], options: ProgramOptions = {}): RunningProgram {
  const clock = options.clock ?? Date.now;
  const startMs = clock();
  const child = spawn(file, [...args], { cwd: WORKSPACE, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<ProgramRun>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`could not run ${file}`, { cause: error })));
    child.once('close', (code) => resolve({ code, stdout, stderr, startMs, endMs: clock() }));
  });
  return { done, pid: child.pid, output: () => ({ code: child.exitCode, stdout, stderr }) };
}

/** Runs the built restart CLI (`node dist/apps/restart-cli/main.js <args>`) from the workspace root. */
export function runCli(args: readonly string[], options: ProgramOptions = {}): RunningProgram {
  return runProgram(process.execPath, [CLI_MAIN, ...args], options);
}
