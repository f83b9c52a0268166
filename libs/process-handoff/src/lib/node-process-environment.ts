import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { OutputStream } from './handoff-messages';
import type { ChildHandlers, ParentChannel, PreparedChild, ProcessEnvironment, SpawnedChild, SpawnRequest } from './process-environment';
import { HANDOFF_TIMINGS } from './upgrader-options';

/** Resolves or rejects with the callback of a `send`; a synchronous throw (data that cannot be cloned) rejects too. */
function sent(send: (callback: (error: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      send((error) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
}

function spawnChild(request: SpawnRequest, handlers: ChildHandlers): SpawnedChild {
  const child = spawn(request.command, request.args, {
    cwd: request.cwd,
    env: request.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...request.fds],
    serialization: 'advanced',
    detached: request.detached === true,
  });
  return followChild(child, () => handlers);
}

/**
 * Hears a child's messages, exit and spawn error for whoever `handlers()` names at the
 * time (nobody, for a prepared child before its launch), and wraps its channel.
 */
function followChild(child: ChildProcess, handlers: () => ChildHandlers | undefined): SpawnedChild {
  let spawnFailed = false;
  let exited = false;
  let handlesInFlight = 0;
  let released = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const reportExit = () => {
    if (exited || spawnFailed) return;
    exited = true;
    clearTimeout(graceTimer);
    handlers()?.exit(child.exitCode, child.signalCode);
  };
  child.on('message', (message) => handlers()?.message(message));
  child.on('disconnect', () => handlers()?.disconnect?.());
  // Without a pid, 'error' means spawning failed; sends use callbacks and kills go through
  // process.kill, so no other 'error' is expected - but one must never crash the predecessor.
  child.on('error', (error) => {
    if (child.pid !== undefined || spawnFailed) return;
    spawnFailed = true;
    handlers()?.spawnError(error);
  });
  child.on('exit', () => {
    graceTimer = setTimeout(reportExit, HANDOFF_TIMINGS.channelCloseGraceMs).unref();
  });
  child.on('close', reportExit);
  return {
    pid: child.pid,
    send: (message) => sent((callback) => child.send(message, callback)),
    sendHandle: async (message, handle) => {
      // Handles travel one at a time (each waits for the child's acknowledgment): the channel must
      // keep this process alive until the last one left, or it would exit with connections queued.
      if (handlesInFlight++ === 0) child.channel?.ref();
      try {
        await sent((callback) => child.send(message, handle as Parameters<typeof child.send>[1], callback));
      } finally {
        if (--handlesInFlight === 0 && released) child.channel?.unref();
      }
    },
    disconnect: () => {
      if (child.connected) child.disconnect();
    },
    unref: () => {
      released = true;
      child.unref();
      if (handlesInFlight === 0) child.channel?.unref();
    },
  };
}

/**
 * What a prepared successor runs until its launch: it waits for "go" on its stdin, then
 * execs its command (env -C resolves the working directory's path then, as a spawn does;
 * its stdin becomes /dev/null, as a spawn's 'ignore'). EOF or anything else: it exits 0.
 */
const PREPARED_SCRIPT = 'IFS= read -r go || exit 0; [ "$go" = go ] || exit 0; exec "$@" </dev/null';
const SHELL = '/bin/sh';
const ENV = '/usr/bin/env';

function prepareChild(request: SpawnRequest): PreparedChild {
  const child = spawn(SHELL, ['-c', PREPARED_SCRIPT, 'handoff-prepared', ENV, '-C', request.cwd, '--', request.command, ...request.args], {
    cwd: request.cwd,
    env: request.env,
    stdio: ['pipe', 'inherit', 'inherit', 'ipc', ...request.fds],
    serialization: 'advanced',
    detached: request.detached === true,
  });
  let handlers: ChildHandlers | undefined;
  let unusable: string | undefined;
  // A pipe's end is a net.Socket, which can be unref'd.
  const stdin = child.stdin as Socket | null;
  stdin?.on('error', () => undefined); // EPIPE: it is gone, and its exit says so
  const followed = followChild(child, () => handlers);
  child.once('error', (error) => void (unusable ??= `its fork failed: ${error.message}`));
  child.once('exit', (code, signal) => void (unusable ??= `it ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before the upgrade`));
  // Waiting, it must not keep this process alive.
  child.unref();
  child.channel?.unref();
  stdin?.unref();
  return {
    pid: child.pid,
    request,
    get unusable() {
      return unusable;
    },
    launch: (next) => {
      if (unusable !== undefined) throw new Error(`the prepared successor ${child.pid} cannot start: ${unusable}`);
      unusable = 'it was launched';
      handlers = next;
      child.ref();
      child.channel?.ref();
      stdin?.end('go\n');
      return followed;
    },
    discard: () => {
      if (unusable !== undefined) return;
      unusable = 'it was discarded';
      stdin?.end();
      if (child.connected) child.disconnect();
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function parentChannel(): ParentChannel | undefined {
  if (typeof process.send !== 'function') return undefined;
  const send = process.send.bind(process);
  return {
    get connected() {
      return process.connected;
    },
    send: (message) => sent((callback) => send(message, callback)),
    listen: (handlers) => {
      process.on('message', handlers.message);
      process.on('disconnect', handlers.disconnect);
      return () => {
        process.off('message', handlers.message);
        process.off('disconnect', handlers.disconnect);
      };
    },
    disconnect: () => {
      if (process.connected) process.disconnect();
    },
    unref: () => process.channel?.unref(),
  };
}

function tapOutput(listener: (stream: OutputStream, text: string) => void): () => void {
  const restores = (['stdout', 'stderr'] as const).map((name) => {
    const stream = process[name];
    const original = stream.write;
    let active = true;
    const tapped = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (active) listener(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    stream.write = tapped;
    return () => {
      active = false;
      // Someone may have wrapped write after us: then ours stays in their chain, switched off.
      if (stream.write === tapped) stream.write = original;
    };
  });
  return () => restores.forEach((restore) => restore());
}

function kill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new Error(`cannot send ${signal} to ${pid}`, { cause: error });
  }
}

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined; // the process is gone: not an error
    // EMFILE (this process at its fd limit) says nothing about the other one: never take it for "gone".
    throw new Error(`cannot read /proc/${pid}/stat`, { cause: error });
  }
}

function listChildren(pid: number): number[] | undefined {
  try {
    const out: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (child.trim()) out.push(Number(child));
    }
    return out;
  } catch {
    return undefined; // gone, a thread that ended between the listing and the read, or no children files: the caller walks the table
  }
}

function readCmdline(): string[] | undefined {
  try {
    return readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined; // not Linux: the resolved argv is all there is
  }
}

/** The real process environment: this process, child_process, /proc, the fs and unref'd timers. */
export function nodeProcessEnvironment(): ProcessEnvironment {
  return {
    pid: process.pid,
    ppid: process.ppid,
    platform: process.platform,
    execPath: process.execPath,
    execArgv: [...process.execArgv],
    argv: [...process.argv],
    cmdline: readCmdline(),
    env: process.env,
    cwd: () => process.cwd(),
    spawn: spawnChild,
    prepare: prepareChild,
    kill,
    listPids: () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number),
    listChildren,
    readStat,
    writeFile: (path, data) => writeFileSync(path, data),
    readText: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined; // unreadable or absent: the caller says what that means
      }
    },
    rename: (from, to) => renameSync(from, to),
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined; // absent or unreadable: the caller treats both as "not ours"
      }
    },
    removeFile: (path) => rmSync(path, { force: true }),
    realpath: (path) => {
      try {
        return { path: realpathSync(path) };
      } catch (error) {
        return { error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
      }
    },
    parentChannel,
    tapOutput,
    onFatal: (listener) => {
      process.on('uncaughtExceptionMonitor', listener);
      return () => void process.off('uncaughtExceptionMonitor', listener);
    },
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}
