import { waitFor, WORKSPACE } from '@edu-agents/e2e-support';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesMentioning, signal } from './proc';

/** The library's fixture server (a new build is whatever the mode file says at a generation's start). */
export const FIXTURE = join(WORKSPACE, 'libs/process-handoff/test-support/handoff-fixture.ts');
/** The TypeScript loader, by absolute path: a fixture started outside the workspace must still find it. */
export const SWC_REGISTER = require.resolve('@swc-node/register');

/** One JSON line a generation of the fixture printed, stamped with the time it arrived (`at`, Date.now()). */
export interface FixtureEvent {
  event: string;
  pid: number;
  at: number;
  [field: string]: unknown;
}

export interface FixtureOptions {
  /** Mode words of the first generation (see handoff-fixture.ts). */
  mode?: string;
  env?: Record<string, string>;
  /**
   * `reaping`: the first generation is this process's child, reaped at once.
   * `lazy`: its parent is a shell that `exec`s `sleep` and never reaps it, as an init
   * that reaps late (this VM's) or a stalled supervisor: a killed process stays a zombie.
   */
  parent?: 'reaping' | 'lazy';
  /** Working directory and entry file (default: the workspace and the fixture). */
  cwd?: string;
  entry?: string;
  /** Extra variables a shell would set (PWD). */
  extraEnv?: Record<string, string>;
  /**
   * Runs before the first generation starts, with the run's directory in place (a
   * mount, a release layout); may return more variables, and where to start it.
   */
  prepare?: (fixture: Fixture) => { env?: Record<string, string>; cwd?: string; entry?: string } | void;
}

/**
 * One run of the fixture: its directory (mode, gates, pid file; on every process's
 * command line, which is how cleanup finds them all), its generations' events from
 * the shared stdout, and what it wrote to stderr. Started in a process group of its own.
 */
export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'handoff-cell-'));
  readonly events: FixtureEvent[] = [];
  output = '';
  /** How the direct child ended: the first generation under a `reaping` parent. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private buffer = '';
  private readonly cleanups: (() => void)[] = [];

  constructor(options: FixtureOptions = {}) {
    this.mode(options.mode ?? 'serve');
    const prepared = options.prepare?.(this) ?? {};
    const entry = prepared.entry ?? options.entry ?? FIXTURE;
    const env = { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE, 'tsconfig.base.json'), ...options.env, ...options.extraEnv, ...prepared.env };
    const node = [process.execPath, '-r', SWC_REGISTER, entry, this.dir];
    const [command, args] = options.parent === 'lazy'
      ? ['/bin/sh', ['-c', '"$@" & exec sleep 600', 'lazy-parent', ...node]]
      : [node[0], node.slice(1)];
    this.child = spawn(command, args, { cwd: prepared.cwd ?? options.cwd ?? WORKSPACE, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.read(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Sets the mode words the next generation starts with. */
  mode(words: string): void {
    writeFileSync(join(this.dir, 'mode'), words);
  }

  /** Creates a gate file the fixture waits for (`hello`, `release`, ...). */
  open(gate: string): void {
    writeFileSync(join(this.dir, gate), '');
  }

  /** Runs at cleanup, before the processes are killed (a mount to undo). */
  onCleanup(step: () => void): void {
    this.cleanups.push(step);
  }

  /** The pid in the pid file, or undefined. */
  pidFile(path = join(this.dir, 'fixture.pid')): number | undefined {
    try {
      return Number(readFileSync(path, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /** The n-th event (1-based) that matches, within the deadline; the error shows what the run printed. */
  async next(what: string, match: (e: FixtureEvent) => boolean, deadlineMs = 30_000, n = 1): Promise<FixtureEvent> {
    return waitFor(what, () => this.events.filter(match)[n - 1], deadlineMs).catch((error: Error) => {
      throw new Error(`${error.message}\n--- fixture events ---\n${this.events.map((e) => JSON.stringify(e)).join('\n')}\n--- stderr ---\n${this.output}`, { cause: error });
    });
  }

  /** The first generation's pid (from its first event: under a lazy parent it is not our child). */
  async firstPid(): Promise<number> {
    return (await this.next('the first generation to load', (e) => e.event === 'loaded')).pid;
  }

  /** Log lines of the library (the `log` events) of one process. */
  logs(pid: number): string[] {
    return this.events.filter((e) => e.event === 'log' && e.pid === pid).map((e) => String(e['message']));
  }

  /** Client ports of the connections `pid` reported accepting. */
  accepted(pid: number): number[] {
    return this.events.filter((e) => e.event === 'conn' && e.pid === pid).map((e) => e['port'] as number);
  }

  /** Live processes of this run (every generation and grandchild has the run's directory on its command line). */
  processes(): number[] {
    return processesMentioning(this.dir);
  }

  /** Kills every process of the run, undoes what the cell set up, removes the directory. */
  cleanup(): void {
    for (const step of this.cleanups.splice(0)) {
      try {
        step();
      } catch (error) {
        process.stderr.write(`cleanup step failed: ${(error as Error).message}\n`);
      }
    }
    if (this.child.pid !== undefined) signal(-this.child.pid, 'SIGKILL');
    for (const pid of this.processes()) signal(pid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private read(chunk: string): void {
    this.output += chunk;
    const lines = (this.buffer + chunk).split('\n');
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        this.events.push({ ...(JSON.parse(line) as FixtureEvent), at: Date.now() });
      } catch {
        // a line cut by a killed process: not an event
      }
    }
  }
}
