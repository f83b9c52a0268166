import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for';

export const WORKSPACE = join(__dirname, '../../../..');
export const API_MAIN = join(WORKSPACE, 'dist/apps/api/main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** A real API process (the built dist/apps/api/main.js) on a port the OS chose. */
export interface ApiProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  exited: Promise<Exit>;
  isRunning(): boolean;
  signal(signal: NodeJS.Signals): void;
}

/** Runs the built API with `env` on top of a small, fast default environment. */
export function runApi(env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<Exit> } {
  if (!existsSync(API_MAIN)) throw new Error(`${API_MAIN} is missing: run \`npx nx build api\` first (nx e2e api-e2e does)`);
  const child = spawn(process.execPath, [API_MAIN], {
    cwd: WORKSPACE,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', PORT: '0', HOST: '127.0.0.1', QC_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  return { child, output: () => text, exited };
}

const running = new Set<ChildProcess>();

/** Starts the API and waits until it logs that it listens. */
export async function startApi(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ApiProcess> {
  const { child, output, exited } = runApi(env);
  running.add(child);
  let gone = false;
  void exited.then(() => {
    gone = true;
    running.delete(child);
  });
  const port = await waitFor(
    'the API to log "listening on"',
    () => {
      if (gone) throw new Error(`API exited during start-up:\n${output()}`);
      const match = /listening on http:\/\/[^\s:]+:(\d+)/.exec(output());
      return match ? Number(match[1]) : undefined;
    },
    timeoutMs,
  );
  return {
    child,
    pid: child.pid as number,
    port,
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    isRunning: () => !gone,
    signal: (signal) => void child.kill(signal),
  };
}

/** Kills every API process a test left running (afterEach). */
export async function killLeftoverApis(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)))));
}
