import { check, type HealthResult } from '@edu-agents/health-client';
import { readdir, readFile } from 'node:fs/promises';
import type { InstanceManager } from '../managers/instance-manager';
import { isProcessAlive } from '../managers/process-liveness';
import { ProcessManager, type ProcessManagerOptions } from '../managers/process.manager';
import { SystemdManager } from '../managers/systemd.manager';
import { httpGet } from './http-get';
import { makeStepRenderer } from '../render/step-renderer';
import type { RestartDeps } from '../restart/restart.types';

/** Every side effect the CLI has, injected so `makeProgram()` runs in tests without a system. */
export interface CliDeps {
  /** Writes to stdout: only the result (JSON with --json). */
  readonly out: (text: string) => void;
  /** Writes to stderr: progress, errors. */
  readonly err: (text: string) => void;
  /** Whether stderr is a terminal (marks and colours) or not (plain text). */
  readonly isTTY: boolean;
  readonly check: (url: string, options: { timeoutMs?: number }) => Promise<HealthResult>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** True while a pid is a live process on this host (/proc: a zombie is gone). */
  readonly isAlive: (pid: number) => Promise<boolean>;
  readonly processManager: (options: ProcessManagerOptions) => InstanceManager;
  readonly systemdManager: (unit: string) => InstanceManager;
  /** Reads a text file; `undefined` when it does not exist. */
  readonly readText: (path: string) => Promise<string | undefined>;
  /** Lists a directory; `[]` when it does not exist. */
  readonly listDir: (path: string) => Promise<string[]>;
}

/** The real side effects. */
export function realDeps(): CliDeps {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    // A GET over node:http: Node 20's first fetch would load undici at the start of every restart.
    check: (url, o) => check(url, { ...o, fetch: httpGet }),
    now: () => performance.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    isAlive: isProcessAlive,
    processManager: (o) => new ProcessManager(o),
    systemdManager: (unit) => new SystemdManager(unit),
    readText: (p) => readFile(p, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw new Error(`cannot read ${p}: ${e.message}`, { cause: e });
    }),
    listDir: (p) => readdir(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw new Error(`cannot list ${p}: ${e.message}`, { cause: e });
    }),
  };
}

/** The side effects of the restart flows, progress rendered on stderr. */
export function restartDeps(deps: CliDeps): RestartDeps {
  return { check: deps.check, now: deps.now, sleep: deps.sleep, isAlive: deps.isAlive, emit: makeStepRenderer(deps.err, deps.isTTY) };
}
