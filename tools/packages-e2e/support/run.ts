import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { track, waitFor } from '@edu-agents/e2e-support';

/** How a command ended and what it printed. */
export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (with its process group) after this long; the result then says so. */
  timeoutMs: number;
}

/**
 * The environment of this process without what would tie a consumer to the workspace:
 * npm's per-script variables (prefix, user config), module search paths and loaders.
 */
export function outsideEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_PATH$|NODE_OPTIONS$|SWC_NODE_|TS_NODE_|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end (bounded), in a process group of its own. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? outsideEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    track(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${command}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** {@link run}, failing with the command's output unless it exits 0. */
export async function mustRun(command: string, args: readonly string[], options: RunOptions): Promise<Ran> {
  const ran = await run(command, args, options);
  if (ran.code !== 0) {
    throw new Error(`\`${command} ${args.join(' ')}\` in ${options.cwd} exited ${ran.code ?? ran.signal}\n--- stdout\n${ran.stdout.slice(-4000)}\n--- stderr\n${ran.stderr.slice(-4000)}`);
  }
  return ran;
}

/** A long-running consumer process: its output lines, its exit. */
export class Started {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
    // A process group of its own: cleanup kills it with whatever it started (a handoff successor stays in it).
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
    this.pid = track(child.pid);
    createInterface({ input: child.stdout }).on('line', (line) => this.lines.push(line));
    createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  /** Waits for an output line matching `pattern` (already printed or still to come); returns its match. */
  async line(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const probe = () => {
      for (const line of this.lines) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (this.exit) throw new Error(`it exited (${JSON.stringify(this.exit)}) first`);
      return undefined;
    };
    try {
      return await waitFor(`a line matching ${pattern}`, probe, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- its output:\n${this.output()}`, { cause: error });
    }
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  output(): string {
    return [...this.lines, ...this.stderr.map((l) => `[stderr] ${l}`)].slice(-40).join('\n');
  }
}
