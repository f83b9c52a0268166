import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { InstanceManager, PidFileOwner, StartedInstance } from './instance-manager';
import { isProcessAlive } from './process-liveness';

/** Options of the `process` manager. */
export interface ProcessManagerOptions {
  /** Pid file of the running instance; rewritten with the new pid after a start. */
  readonly pidFile: string;
  /**
   * Start command, run as `/bin/sh -c 'exec <command>'` (leading VAR=value assignments
   * allowed). Only a replace restart needs it: in a handoff the API starts its successor.
   */
  readonly start?: string;
  /** Where the new instance's stdout and stderr are appended. Default `<pid-file>.log`. */
  readonly logFile?: string;
  /** Working directory of the new instance. Default: the CLI's. */
  readonly cwd?: string;
  /** Environment of the new instance. Default: the CLI's, plus PID_FILE. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Side effects of the process manager, injectable for tests. */
export interface ProcessSystem {
  readonly kill: (pid: number, signal: NodeJS.Signals) => void;
  readonly isAlive: (pid: number) => Promise<boolean>;
  readonly spawn: typeof spawn;
}

const REAL_SYSTEM: ProcessSystem = { kill: (pid, signal) => process.kill(pid, signal), isAlive: isProcessAlive, spawn };

/** Builds the shell script for a start command: `exec` so the pid we get is the app's own. */
export function startScript(command: string): string {
  // `exec FOO=1 node` would try to run a program called FOO=1; `exec env FOO=1 node` keeps the pid.
  return /^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(command) ? `exec env ${command}` : `exec ${command}`;
}

/**
 * Manages an instance without systemd: signals the pid from a pid file and starts the
 * new instance detached (own process group), output appended to a log file, the new
 * pid written atomically to the pid file. A handoff is a SIGHUP to that pid; the API
 * starts its successor itself, which rewrites the pid file once it serves.
 */
export class ProcessManager implements InstanceManager {
  readonly label: string;
  private readonly logFile: string;
  private child: ChildProcess | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;
  private logOffset = 0;

  constructor(
    private readonly options: ProcessManagerOptions,
    private readonly system: ProcessSystem = REAL_SYSTEM,
  ) {
    this.logFile = options.logFile ?? `${options.pidFile}.log`;
    this.label = `pid file ${options.pidFile}`;
  }

  async readPid(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(this.options.pidFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read pid file ${this.options.pidFile}: ${(error as Error).message}`, { cause: error });
    }
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`pid file ${this.options.pidFile} holds '${text.trim()}', not a pid; fix or remove it.`);
    return (await this.system.isAlive(pid)) ? pid : undefined;
  }

  async signalStop(pid: number): Promise<void> {
    this.system.kill(pid, 'SIGTERM');
  }

  async triggerHandoff(pid: number): Promise<string> {
    this.system.kill(pid, 'SIGHUP');
    return `SIGHUP sent to pid ${pid}`;
  }

  replaceUsage(): string | undefined {
    return this.options.start ? undefined : 'option --start <command> is required to replace the instance (--manager process starts the new one with it).';
  }

  async isGone(pid: number): Promise<boolean> {
    return !(await this.system.isAlive(pid));
  }

  async start(): Promise<StartedInstance> {
    const command = this.options.start;
    if (!command) throw new Error(this.replaceUsage());
    const cwd = this.options.cwd ?? process.cwd();
    const pidFile = resolve(cwd, this.options.pidFile);
    const logFile = resolve(cwd, this.logFile);
    await mkdir(dirname(pidFile), { recursive: true });
    await mkdir(dirname(logFile), { recursive: true });
    this.logOffset = await stat(logFile).then((s) => s.size, () => 0);
    const fd = openSync(logFile, 'a');
    try {
      this.child = this.system.spawn('/bin/sh', ['-c', startScript(command)], {
        cwd, detached: true, stdio: ['ignore', fd, fd],
        env: { ...(this.options.env ?? process.env), PID_FILE: pidFile },
      });
    } finally {
      closeSync(fd);
    }
    this.child.once('exit', (code, signal) => (this.exit = { code, signal }));
    this.child.once('error', (error) => (this.spawnError = error));
    this.child.unref();
    const pid = this.child.pid;
    if (pid === undefined) {
      await new Promise((r) => setImmediate(r));
      throw new Error(`could not spawn /bin/sh for '${command}': ${this.spawnError?.message ?? 'no pid'}`, { cause: this.spawnError });
    }
    await writePidAtomically(pidFile, pid);
    return { pid, detail: `started pid ${pid}, log ${this.logFile}` };
  }

  async pidFileOwner(reported: string | null | undefined): Promise<PidFileOwner> {
    if (reported === null) return { owner: 'cli' };
    if (reported === undefined) return { owner: 'api' };
    const mine = resolve(this.options.cwd ?? process.cwd(), this.options.pidFile);
    if ((await canonical(mine)) === (await canonical(reported))) return { owner: 'api' };
    return {
      conflict: `--pid-file ${this.options.pidFile} (${mine}) is not the pid file the API writes itself (its PID_FILE, ${reported}, as /health says): after a handoff one of them would name a process that is gone. Give the CLI --pid-file ${reported}, or run the API with PID_FILE=${mine} or without PID_FILE. Nothing was touched.`,
    };
  }

  async recordPid(pid: number): Promise<void> {
    const pidFile = resolve(this.options.cwd ?? process.cwd(), this.options.pidFile);
    await mkdir(dirname(pidFile), { recursive: true });
    await writePidAtomically(pidFile, pid);
  }

  async startFailure(): Promise<string | undefined> {
    if (this.spawnError) return `spawn failed: ${this.spawnError.message}`;
    if (!this.exit) return undefined;
    const how = this.exit.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit.code}`;
    return `'${this.options.start}' ${how}. Last lines of ${this.logFile}:\n${await this.logTail()}`;
  }

  private async logTail(lines = 12): Promise<string> {
    try {
      const text = (await readFile(resolve(this.options.cwd ?? process.cwd(), this.logFile))).subarray(this.logOffset).toString('utf8');
      return text.trimEnd().split('\n').slice(-lines).map((l) => `  | ${l}`).join('\n') || '  | (empty)';
    } catch (error) {
      return `  | (log unreadable: ${(error as Error).message})`;
    }
  }
}

/** Writes `pid` to a temporary file beside `path`, then renames it over `path`: a reader never sees half a number. */
async function writePidAtomically(path: string, pid: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${pid}\n`);
  await rename(tmp, path);
}

/** One spelling per file: the directory's real path (symlinks resolved) plus the name; the path as given when the directory is missing. */
async function canonical(path: string): Promise<string> {
  try {
    return join(await realpath(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}
