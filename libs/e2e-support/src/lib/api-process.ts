import { check } from '@edu-agents/health-client';
import { spawn, type ChildProcess } from 'node:child_process';
import { runMarkerEnv, track } from './processes';
import { waitFor } from './wait-for';
import { API_MAIN, requireBuilt, WORKSPACE } from './workspace';

/** How a process ended; `at` is Date.now() then. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** The environment of an API process: values as the API reads them. */
export type ApiEnv = Record<string, string | number>;

export interface ApiOptions {
  /** The entry file, relative to the workspace (default the built API; a benchmark runs its baseline apps so). */
  main?: string;
  /** `PORT`; default 0, a port from the OS (read from the `listening on` line). */
  port?: number;
  /** `PID_FILE`: the API writes its pid there once it listens. */
  pidFile?: string;
  /**
   * Pass this process's environment on too. Default false: a small fixed base
   * (PATH, HOME) so that the suite's own environment cannot change the API's config.
   */
  inheritEnv?: boolean;
  /** How long {@link startApi} waits for `listening on` (default 30 s). */
  timeoutMs?: number;
  /** A command that execs node with the rest of its arguments, e.g. `['chrt', '--idle', '0']` (default none: node itself). */
  launcher?: readonly string[];
}

/** A real API process (the built dist/apps/api/main.js), started by {@link runApi}. */
export interface SpawnedApi {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote so far, stdout and stderr (a handoff successor writes here too). */
  output(): string;
  exited: Promise<Exit>;
  isRunning(): boolean;
  signal(signal: NodeJS.Signals): void;
}

/** An API process that listens: {@link startApi}. */
export interface ApiProcess extends SpawnedApi {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `http://127.0.0.1:<port>/health` */
  healthUrl: string;
}

/** The defaults of every API a test starts: loopback, a port from the OS, no Chromium, text logs. */
const BASE_ENV = { HOST: '127.0.0.1', QC_ENABLED: 'false', LOG_FORMAT: 'text' };

/**
 * Runs the built API with `env` on top of {@link BASE_ENV}, from the workspace
 * root, in a process group of its own (cleanup reaches its Chromium and a handoff
 * successor). The pid is tracked: `killLeftoverApis()` ends it.
 */
export function runApi(env: ApiEnv = {}, options: ApiOptions = {}): SpawnedApi {
  const main = options.main ?? API_MAIN;
  requireBuilt(main);
  const base = options.inheritEnv ? process.env : { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root' };
  const full = { ...base, ...runMarkerEnv(), ...BASE_ENV, PORT: String(options.port ?? 0), ...(options.pidFile ? { PID_FILE: options.pidFile } : {}), ...stringValues(env) };
  const [file, ...args] = [...(options.launcher ?? []), process.execPath, main];
  const child = spawn(file, args, { cwd: WORKSPACE, env: full, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('error', () => undefined); // a launcher that cannot run: no pid, and the line below says so
  if (child.pid === undefined) throw new Error(`could not start ${[file, ...args].join(' ')}`);
  track(child.pid);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  let gone = false;
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true;
      resolve({ code, signal, at: Date.now() });
    }),
  );
  return { child, pid: child.pid, output: () => text, exited, isRunning: () => !gone, signal: (signal) => void child.kill(signal) };
}

/** Starts the API (see {@link runApi}) and waits until it logs `listening on`. */
export async function startApi(env: ApiEnv = {}, options: ApiOptions = {}): Promise<ApiProcess> {
  const api = runApi(env, options);
  const port = await waitFor(
    'the API to log "listening on"',
    () => {
      // The first `listening` line, text (`listening on http://host:port`) or JSON (`"msg":"listening",...,"port":N`).
      const match = /listening on http:\/\/[^\s:]+:(\d+)|"msg":"listening"[^\n]*?"port":(\d+)/.exec(api.output());
      if (match) return Number(match[1] ?? match[2]);
      if (!api.isRunning()) throw new Error(`the API exited during start-up:\n${api.output()}`);
      return undefined;
    },
    options.timeoutMs ?? 30_000,
  ).catch((error: Error) => {
    api.signal('SIGKILL');
    throw new Error(`${error.message}\n${api.output()}`, { cause: error });
  });
  const url = `http://127.0.0.1:${port}`;
  return { ...api, port, url, healthUrl: `${url}/health` };
}

/** Waits until /health on 127.0.0.1:`port` says ready (the QC pool up) and returns the pid it reports. */
export function waitReady(port: number, timeoutMs = 45_000): Promise<number> {
  return waitFor(`the API on port ${port} to be ready`, async () => {
    const health = await check(`http://127.0.0.1:${port}/health`);
    return health.state === 'ready' ? health.pid : undefined;
  }, timeoutMs);
}

/**
 * The command that starts one API instance in the form the restart CLI's
 * `--start` takes (leading VAR=value assignments, then the program). The
 * running node binary is used, so PATH does not decide which node runs.
 */
export function apiStartCommand(env: ApiEnv): string {
  const assignments = Object.entries(env).map(([k, v]) => {
    if (!/^[\w.:/%-]*$/.test(String(v))) throw new Error(`${k}=${v}: keep start command values free of shell characters`);
    return `${k}=${v}`;
  });
  return [...assignments, process.execPath, API_MAIN].join(' ');
}

function stringValues(env: ApiEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}
