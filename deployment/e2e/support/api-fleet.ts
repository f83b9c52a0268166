import { check } from '@edu-agents/health-client';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { httpRequest } from './net';
import { waitFor } from './wait';

/** The workspace root: the API and the CLI run from here, as an operator would. */
export const WORKSPACE = resolve(__dirname, '../../..');
export const API_MAIN = 'dist/apps/api/main.js';
export const CLI_MAIN = 'dist/apps/restart-cli/main.js';

/** Fails with what to run when a built entry point is missing. */
export function requireBuilt(...mains: string[]): void {
  for (const main of mains) {
    if (!existsSync(join(WORKSPACE, main))) throw new Error(`${main} is missing: run \`npx nx run-many -t build -p api restart-cli\` (nx e2e deployment does)`);
  }
}

/**
 * The command that starts one API instance, in the form the restart CLI's
 * `--start` takes (leading VAR=value assignments, then the program). The
 * running node binary is used, so PATH does not decide which node runs.
 */
export function apiStartCommand(env: Record<string, string | number>): string {
  const assignments = Object.entries(env).map(([k, v]) => {
    if (!/^[\w.:/%-]*$/.test(String(v))) throw new Error(`${k}=${v}: keep start command values free of shell characters`);
    return `${k}=${v}`;
  });
  return [...assignments, process.execPath, API_MAIN].join(' ');
}

/**
 * Starts a command the way the restart CLI's process manager does: `/bin/sh -c
 * 'exec env <command>'`, detached (its own process group, so cleanup can reach
 * Chrome too), output appended to `logFile`, PID_FILE in the environment.
 */
export function startDetached(command: string, pidFile: string, logFile = `${pidFile}.log`): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('/bin/sh', ['-c', `exec env ${command}`], { cwd: WORKSPACE, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, PID_FILE: pidFile } });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start /bin/sh for: ${command}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new Error(`cannot probe pid ${pid}`, { cause: error });
  }
  // A zombie (exited, not yet reaped by its parent) is gone for our purposes.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // reaped between the two looks
  }
}

/** The pid in a pid file, or undefined while there is none. */
export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** GET a JSON route of an instance on 127.0.0.1:`port`. */
export async function getJson<T = Record<string, unknown>>(port: number, path: string): Promise<{ status: number; body: T }> {
  const answer = await httpRequest(port, 'GET', path);
  return { status: answer.status, body: JSON.parse(answer.body) as T };
}

/** Waits until /health on `port` says ready, and returns the pid it reports. */
export async function waitReady(port: number, timeoutMs = 45_000): Promise<number> {
  return waitFor(async () => {
    const health = await check(`http://127.0.0.1:${port}/health`);
    return health.state === 'ready' ? health.pid : undefined;
  }, `the API on port ${port} to be ready`, timeoutMs);
}

/**
 * Stops processes this test started, each by pid: SIGTERM (the API closes its
 * Chrome), then after `graceMs` SIGKILL to its whole process group.
 */
export async function stopGroups(pids: Iterable<number>, graceMs = 15_000): Promise<void> {
  const live = [...new Set(pids)].filter(isAlive);
  for (const pid of live) process.kill(pid, 'SIGTERM');
  // Past the grace period the group is killed below either way: the timeout itself is no error here.
  await waitFor(() => (live.every((pid) => !isAlive(pid)) ? true : undefined), 'started processes to exit', graceMs).catch(() => undefined);
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw new Error(`cannot kill process group ${pid}`, { cause: error });
    }
  }
}

/** Runs the built restart CLI from the workspace root; start and end on the load's clock. */
export function runCli(args: string[], clock: () => number): Promise<{ code: number | null; stdout: string; stderr: string; startMs: number; endMs: number }> {
  const startMs = clock();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`could not run ${CLI_MAIN}`, { cause: error })));
    child.once('close', (code) => resolve({ code, stdout, stderr, startMs, endMs: clock() }));
  });
}
