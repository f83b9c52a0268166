import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nodeProcessEnvironment } from '../src/lib/node-process-environment';
import { tryStat } from '../src/lib/proc-stat';

const WORKSPACE = resolve(__dirname, '../../..');
const FIXTURE = join(__dirname, 'handoff-fixture.ts');

/** One JSON line a fixture process printed, with the time it arrived (`at`). */
export interface FixtureEvent {
  event: string;
  pid: number;
  [field: string]: unknown;
}

/** Polls `probe` until it returns a value or the deadline passes (then throws, naming `what`). */
export async function waitFor<T>(what: string | (() => string), probe: () => T | undefined | false, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether a process runs (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // no such process
  }
}

/** GET / with a fresh connection, or on `agent`'s kept-alive one; resolves with the pid that answered. */
export function askPid(port: number, agent?: Agent): Promise<number> {
  return new Promise((resolvePid, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ...(agent ? { agent } : { agent: false, headers: { connection: 'close' } }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolvePid(Number(body)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A process's state letter (R, S, T, Z, ...), undefined when it is gone. */
export function stateOf(pid: number): string | undefined {
  return tryStat(nodeProcessEnvironment(), pid)?.state;
}

/** GET `path`, answered (or cut) whenever the fixture lets it; resolves `answered <body>` or `failed <error>`. `agent`: on a connection the test keeps. */
export function getLater(port: number, path: string, agent: Agent | false = false): Promise<string> {
  return new Promise((resolveGet) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolveGet(`answered ${body}`));
    }).on('error', (error) => resolveGet(`failed ${error.message}`)).end();
  });
}

/**
 * The fixture started from jest in a process group of its own (so cleanup can
 * kill every generation at once), its generations' events collected from the
 * shared stdout. Call {@link cleanup} in afterEach.
 */
export class FixtureRun {
  readonly events: FixtureEvent[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'process-handoff-'));
  output = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly child: ChildProcess;
  private buffer = '';

  constructor(mode: string, env: Record<string, string> = {}) {
    this.setMode(mode);
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE, this.dir], {
      cwd: WORKSPACE,
      env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.read(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.child.on('exit', (code, signal) => (this.exit = { code, signal }));
  }

  get firstPid(): number {
    return this.child.pid as number;
  }

  setMode(mode: string): void {
    writeFileSync(join(this.dir, 'mode'), mode);
  }

  release(): void {
    writeFileSync(join(this.dir, 'release'), '');
  }

  pidFile(): number {
    return Number(readFileSync(join(this.dir, 'fixture.pid'), 'utf8'));
  }

  /** The first event that matches, within the deadline (the error shows what the fixture printed). */
  next(what: string, match: (e: FixtureEvent) => boolean, deadlineMs = 20_000): Promise<FixtureEvent> {
    return this.nth(what, match, 1, deadlineMs);
  }

  /** The n-th event (1-based) that matches, within the deadline. */
  nth(what: string, match: (e: FixtureEvent) => boolean, n: number, deadlineMs = 20_000): Promise<FixtureEvent> {
    return waitFor(() => `${what}\n--- fixture output ---\n${this.output}`, () => this.events.filter(match)[n - 1], deadlineMs);
  }

  /** Waits until `pid` runs no more. */
  gone(pid: number, deadlineMs = 20_000): Promise<true> {
    return waitFor(`pid ${pid} to exit`, () => !isAlive(pid), deadlineMs);
  }

  signal(pid: number, signal: NodeJS.Signals): void {
    process.kill(pid, signal);
  }

  /**
   * Kills every process this run started: its process group, and any grandchild
   * (found by the run's directory on its command line: one whose parent was
   * SIGKILLed before it could report it is out of reach otherwise).
   */
  cleanup(): void {
    tryKill(-this.firstPid);
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      if (commandLine(Number(pid)).includes(this.dir)) tryKill(Number(pid));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private read(chunk: string): void {
    this.output += chunk;
    const lines = (this.buffer + chunk).split('\n');
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) this.events.push({ ...(JSON.parse(line) as FixtureEvent), at: Date.now() });
    }
  }
}

/** A process's command line, [] when it is gone. */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return []; // gone meanwhile
  }
}

function tryKill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // already gone: nothing to clean up
  }
}
