import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The workspace root: the CLI and the API run from here, as an operator would. */
export const ROOT = join(__dirname, '../../../..');
export const API_MAIN = 'dist/apps/api/main.js';
export const CLI_MAIN = join(ROOT, 'dist/apps/restart-cli/main.js');


/** Pids of every API process the suite knows of; `killAll` ends them. */
const known = new Set<number>();

/** A free port from the OS (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A running API started by the test. */
export interface ApiProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
}

/**
 * Starts `node dist/apps/api/main.js` on `port` (0 = the OS picks) with PID_FILE,
 * waits for its `listening on` line and returns its pid and port.
 */
export async function startApi(pidFile: string, port = 0, extraEnv: Record<string, string> = {}): Promise<ApiProcess> {
  const env = { ...process.env, QC_ENABLED: 'false', LOG_FORMAT: 'text', PORT: String(port), HOST: '127.0.0.1', PID_FILE: pidFile, ...extraEnv };
  const child = spawn(process.execPath, [API_MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  known.add(child.pid as number);
  let log = '';
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not listen within 30 s:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /listening on http:\/\/[^\s:]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`API exited with ${code} before listening:\n${log}`));
    });
  });
  return { pid: child.pid as number, port: listening, url: `http://127.0.0.1:${listening}/health`, child };
}

/** Remembers a pid (e.g. one the CLI started) so cleanup ends it. */
export function track(pid: number | undefined): void {
  if (pid) known.add(pid);
}

/** Reads a pid file, tracking the pid for cleanup. */
export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const pid = text === undefined ? undefined : Number(text.trim());
  track(pid);
  return pid;
}

/** SIGKILLs every API process the suite started or saw started. */
export function killAll(): void {
  for (const pid of known) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  known.clear();
}

/** True while the pid is a live (non-zombie) process. */
export async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}
