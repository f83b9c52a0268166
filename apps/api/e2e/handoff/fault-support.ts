import { API_MAIN, chromiumMentioning, processTree, profileOwners, requireBuilt, runMarkerEnv, track, waitFor, WORKSPACE, type ApiEnv } from '@edu-agents/e2e-support';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// What the API's fault cells share: the API under a parent that reaps late, a real
// notify socket, and what a run leaves behind in its own TMPDIR (Chromium, profiles).

const unixDgram = require('unix-dgram') as {
  createSocket(type: 'unix_dgram', onMessage: (buf: Buffer) => void): { bind(path: string): void; close(): void; on(e: 'error', l: (error: Error) => void): void };
};

/** A notify socket as systemd's (a unix datagram socket the test binds); systemd itself never runs. */
export class NotifySocket {
  readonly messages: { at: number; text: string }[] = [];
  private readonly socket: { close(): void };

  constructor(readonly path: string) {
    const socket = unixDgram.createSocket('unix_dgram', (buf) => this.messages.push({ at: Date.now(), text: buf.toString('utf8') }));
    socket.on('error', (error) => this.messages.push({ at: Date.now(), text: `socket error: ${error.message}` }));
    socket.bind(path);
    this.socket = socket;
  }

  /** The last MAINPID= a service manager would follow (undefined: the process it started). */
  mainPid(): number | undefined {
    const last = this.messages.filter((m) => m.text.startsWith('MAINPID=')).at(-1);
    return last === undefined ? undefined : Number(last.text.slice('MAINPID='.length));
  }

  texts(): string[] {
    return this.messages.map((m) => m.text);
  }

  close(): void {
    this.socket.close();
  }
}

/** The API started by a shell that `exec`s `sleep`: its parent never reaps it, as an init that reaps late (this VM's) or a stalled supervisor. */
export interface LazyApi {
  pid: number;
  port: number;
  healthUrl: string;
  output(): string;
}

/**
 * Starts the built API like `runApi` (base environment, port, pid file, a process
 * group of its own, tracked for `killLeftoverApis`), but as the child of a parent that
 * does not reap it: once killed it stays a zombie, as in the measured outage.
 */
export async function startApiUnderLazyParent(env: ApiEnv, options: { port: number; pidFile: string; timeoutMs?: number }): Promise<LazyApi> {
  requireBuilt(API_MAIN);
  const full = {
    PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', HOST: '127.0.0.1', QC_ENABLED: 'false', LOG_FORMAT: 'text',
    ...runMarkerEnv(), PORT: String(options.port), PID_FILE: options.pidFile, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
  };
  const shell = spawn('/bin/sh', ['-c', '"$@" & echo "lazy-parent-child $!" >&2; exec sleep 900', 'lazy-parent', process.execPath, API_MAIN], {
    cwd: WORKSPACE, env: full, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(shell.pid);
  let text = '';
  shell.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  shell.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const pid = track(await waitFor('the API to be started', () => Number(/lazy-parent-child (\d+)/.exec(text)?.[1]) || undefined, 10_000));
  await waitFor('the API to listen', () => text.includes('"msg":"listening"') || text.includes('listening on'), options.timeoutMs ?? 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${text}`, { cause: error });
  });
  return { pid, port: options.port, healthUrl: `http://127.0.0.1:${options.port}/health`, output: () => text };
}

/** Chromium processes of a run: their command line names a profile in the run's own TMPDIR. */
export const chromiumOfRun = (tmpDir: string): number[] => chromiumMentioning(tmpDir);

/**
 * Everything else a run left in its TMPDIR: not a QC profile, nor the singleton
 * directory of a Chrome that still has its profile (`<profile>/SingletonSocket` links into it).
 */
export function strayFiles(tmpDir: string): string[] {
  const linked = new Set<string>();
  for (const name of readdirSync(tmpDir).filter((n) => n.startsWith('edu-agents-qc-'))) {
    try {
      linked.add(basename(dirname(readlinkSync(join(tmpDir, name, 'SingletonSocket')))));
    } catch {
      // no singleton (yet, or any more)
    }
  }
  return readdirSync(tmpDir).filter((name) => !name.startsWith('edu-agents-qc-') && !linked.has(name));
}


/** `pid (state, ppid N): the start of its command line`, for a failure message. */
function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.startsWith('--type=') || !a.startsWith('--')).join(' ');
    return `${pid} (${state}, ppid ${ppid}): ${cmdline.slice(0, 120)}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/**
 * True once nothing of a run but `successor`'s Chromium and profile is left (and, with
 * `strays`, no other file in its TMPDIR). Until then it throws what is left, which
 * `waitFor` names when its deadline passes.
 */
export function onlySuccessorLeft(tmpDir: string, successor: number, options: { strays: boolean }): true {
  const mine = new Set(processTree(successor));
  const chromium = chromiumOfRun(tmpDir).filter((pid) => !mine.has(pid));
  const profiles = profileOwners(tmpDir).filter((owner) => owner !== successor);
  const strays = options.strays ? strayFiles(tmpDir) : [];
  if (chromium.length + profiles.length + strays.length === 0) return true;
  throw new Error([
    chromium.length > 0 ? `Chromium not the successor's: ${chromium.map(describeProcess).join('; ')}` : '',
    profiles.length > 0 ? `profiles of ${profiles.join(', ')}` : '',
    strays.length > 0 ? `other files: ${strays.join(', ')}` : '',
  ].filter(Boolean).join(' | '));
}
