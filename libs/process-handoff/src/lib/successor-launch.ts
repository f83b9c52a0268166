import { isAbsolute, join, resolve } from 'node:path';
import { encodeInheritance, snapshotEnv, successorEnv } from './inheritance';
import type { ListenerRegistry, PassableListeners } from './listener-registry';
import type { ProcessEnvironment, SpawnRequest } from './process-environment';

/** How this process was started: what a successor repeats. Captured when the upgrader is created. */
export interface StartSnapshot {
  platform: string;
  execPath: string;
  execArgv: string[];
  /** The entry file path; undefined under `node -e` or a REPL. */
  entry: string | undefined;
  args: string[];
  /** The working directory, as the shell named it when that names the same directory (see {@link captureStart}). */
  cwd: string;
  /** The environment before the app changed it, without variables that must not be inherited. */
  env: Record<string, string>;
}

type PathEnvironment = Pick<ProcessEnvironment, 'realpath'>;

/**
 * How this process was started. The working directory is taken as the shell named
 * it (`PWD`) when that names the same directory as `getcwd()`, and a relative entry
 * path (as typed, from the command line) is resolved against it: in a release
 * layout where `/srv/app/current` links to the running release, a successor then
 * starts from `current`, i.e. the newly deployed build, and not from the old
 * release directory that `getcwd()` resolves to (and that a deploy may delete).
 */
export function captureStart(env: ProcessEnvironment): StartSnapshot {
  const [, resolvedEntry, ...args] = env.argv;
  const realCwd = env.cwd();
  const cwd = logicalCwd(env, realCwd, env.env['PWD']);
  const raw = env.cmdline?.[1 + env.execArgv.length];
  const typedRelative = raw !== undefined && !isAbsolute(raw) && resolve(realCwd, raw) === resolvedEntry;
  const entry = typedRelative && cwd !== realCwd ? join(cwd, raw) : resolvedEntry;
  return { platform: env.platform, execPath: env.execPath, execArgv: [...env.execArgv], entry, args, cwd, env: snapshotEnv(env.env) };
}

function logicalCwd(env: PathEnvironment, realCwd: string, pwd: string | undefined): string {
  if (pwd === undefined || !isAbsolute(pwd) || pwd === realCwd) return realCwd;
  const real = env.realpath(pwd);
  return 'path' in real && real.path === realCwd ? pwd : realCwd;
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
 * @throws when this process cannot start a successor, one of its paths is gone
 *   (a deploy removed the working directory, the entry file or node), or a
 *   listener cannot be passed. `extra.listeners`: these names and fds instead of the registry's.
 */
export function launchRequest(
  start: StartSnapshot,
  pid: number,
  registry: ListenerRegistry,
  extra: { restoreNice?: number; idle?: boolean; yields?: boolean; pidStart?: number; fs?: PathEnvironment; listeners?: PassableListeners } = {},
): SpawnRequest {
  const { restoreNice, idle, yields, pidStart, fs, listeners } = extra;
  const unsupported = unsupportedBecause(start);
  if (unsupported !== undefined) throw new Error(unsupported);
  const missing = fs ? missingPath(fs, start.execPath, start.cwd, start.entry as string) : undefined;
  if (missing !== undefined) throw new Error(missing);
  const { names, fds } = listeners ?? registry.passable();
  return {
    command: start.execPath,
    args: [...start.execArgv, start.entry as string, ...start.args],
    cwd: start.cwd,
    env: successorEnv(start.env, { ...encodeInheritance(pid, names, pidStart), ...(restoreNice === undefined ? {} : { nice: restoreNice }), ...(idle ? { idle: true } : {}), ...(yields ? { yields: true } : {}) }),
    fds,
    ...(restoreNice === undefined ? {} : { detached: true }),
  };
}

/**
 * Which of the paths a successor needs cannot be reached, in words that name it;
 * undefined when all can. `spawn` itself reports a missing working directory as
 * "spawn /usr/bin/node ENOENT", which sends an operator looking for node.
 */
export function missingPath(fs: PathEnvironment, execPath: string, cwd: string, entry: string): string | undefined {
  const checks: [string, string, string][] = [
    [cwd, 'the working directory', 'it was removed or replaced since this process started (a deploy that deletes the old release?); start the service from a directory that outlives a release'],
    [execPath, 'the node executable', 'node was removed or moved since this process started; a successor runs the same executable'],
    [entry, 'the entry file', 'a deploy is in progress or removed it; a successor starts whatever build is at this path'],
  ];
  for (const [path, what, hint] of checks) {
    const real = fs.realpath(path);
    if ('error' in real) return `${what} ${path} cannot be reached (${real.error}): ${hint}`;
  }
  return undefined;
}

/** A spawn error in words that name the real cause: which path was missing, or which limit was hit. */
export function explainSpawnError(fs: PathEnvironment, request: Pick<SpawnRequest, 'command' | 'cwd' | 'args'>, error: NodeJS.ErrnoException, entry?: string): string {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EACCES':
      return missingPath(fs, request.command, request.cwd, entry ?? request.cwd) ?? error.message;
    case 'EMFILE':
      return `${error.message}: this process has no file descriptor left for the successor's pipes (RLIMIT_NOFILE, see /proc/self/limits); raise LimitNOFILE= / ulimit -n, or find what holds them`;
    case 'ENFILE':
      return `${error.message}: the system-wide file table is full (fs.file-max)`;
    case 'EAGAIN':
    case 'ENOMEM':
      return `${error.message}: the system refused a new process (memory, or the pids/task limit of this service)`;
    default:
      return error.message;
  }
}
