import { encodeInheritance, snapshotEnv, successorEnv } from './inheritance';
import type { ListenerRegistry } from './listener-registry';
import type { ProcessEnvironment, SpawnRequest } from './process-environment';

/** How this process was started: what a successor repeats. Captured when the upgrader is created. */
export interface StartSnapshot {
  platform: string;
  execPath: string;
  execArgv: string[];
  /** The entry file path; undefined under `node -e` or a REPL. */
  entry: string | undefined;
  args: string[];
  cwd: string;
  /** The environment before the app changed it, without variables that must not be inherited. */
  env: Record<string, string>;
}

export function captureStart(env: ProcessEnvironment): StartSnapshot {
  const [, entry, ...args] = env.argv;
  return { platform: env.platform, execPath: env.execPath, execArgv: [...env.execArgv], entry, args, cwd: env.cwd(), env: snapshotEnv(env.env) };
}

/** Why this process cannot start a successor, or undefined when it can. */
export function unsupportedBecause(start: StartSnapshot): string | undefined {
  if (start.platform !== 'linux') return `hot handoff needs Linux (/proc), this is ${start.platform}`;
  if (start.entry === undefined) return 'this process was not started from an entry file (node -e, a REPL)';
  return undefined;
}

/**
 * The successor's command line: the same node executable, execArgv, entry path
 * (a new build there is what runs), arguments and cwd, the start-up environment
 * plus the inheritance, and the registered listeners at fds 4, 5, ...
 *
 * @throws when this process cannot start a successor or a listener cannot be passed.
 */
export function launchRequest(start: StartSnapshot, pid: number, registry: ListenerRegistry, restoreNice?: number): SpawnRequest {
  const unsupported = unsupportedBecause(start);
  if (unsupported !== undefined) throw new Error(unsupported);
  const { names, fds } = registry.passable();
  return {
    command: start.execPath,
    args: [...start.execArgv, start.entry as string, ...start.args],
    cwd: start.cwd,
    env: successorEnv(start.env, { ...encodeInheritance(pid, names), ...(restoreNice === undefined ? {} : { nice: restoreNice }) }),
    fds,
    ...(restoreNice === undefined ? {} : { detached: true }),
  };
}
