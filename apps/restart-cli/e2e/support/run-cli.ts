import { spawn } from 'node:child_process';
import { CLI_MAIN, ROOT } from './api-process';

/** What a CLI run printed and how it ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program (the built CLI by default) from the workspace root and collects its output. */
export function runProgram(file: string, args: readonly string[], env: Record<string, string> = {}): { done: Promise<CliRun>; pid: number | undefined; output: () => CliRun } {
  const child = spawn(file, [...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done, pid: child.pid, output: () => ({ code: child.exitCode, stdout, stderr }) };
}

/** Runs `node dist/apps/restart-cli/main.js <args>`. */
export function runCliProcess(args: readonly string[]) {
  return runProgram(process.execPath, [CLI_MAIN, ...args]);
}
