import type { OutputStream, ToPredecessor, ToSuccessor } from './handoff-messages';

/** What starting a successor needs: the command line, where, with what, and the fds to pass at 4, 5, ... */
export interface SpawnRequest {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  fds: number[];
  /** In a session (and process group) of its own: its own scheduling group (see successor-priority.ts). */
  detached?: boolean;
}

/** What the predecessor hears from a spawned successor. */
export interface ChildHandlers {
  message: (message: unknown) => void;
  /** The process is gone: its exit event fired (and its IPC channel closed, so no message is still on the way). */
  exit: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Spawning failed (there is no pid); no `exit` follows. */
  spawnError: (error: Error) => void;
  /** The IPC channel closed: the child exits, or (still running) it closed the channel itself. */
  disconnect?: () => void;
}

/** The predecessor's hold on a successor it spawned. */
export interface SpawnedChild {
  /** Undefined when spawning failed; `spawnError` follows. */
  readonly pid: number | undefined;
  /** Resolves when the message was handed to the channel; rejects when the channel is gone. */
  send(message: ToSuccessor): Promise<void>;
  /**
   * Sends `message` with a socket handle (its file descriptor travels with it); resolves once
   * it was written to the channel, so our copy may be closed. Rejects when the channel is gone.
   */
  sendHandle(message: ToSuccessor, handle: unknown): Promise<void>;
  /** Closes our end of the IPC channel (idempotent). */
  disconnect(): void;
  /** Lets this process exit while the child and the channel to it still exist. */
  unref(): void;
}

/**
 * A successor's process forked ahead of an upgrade (the `prepareSuccessor` option): it
 * waits before it execs the request's command until `launch()`.
 */
export interface PreparedChild {
  /** Undefined when the fork failed. */
  readonly pid: number | undefined;
  readonly request: SpawnRequest;
  /** Why it can no longer be launched (it exited, was launched or discarded), or undefined while it waits. */
  readonly unusable: string | undefined;
  /** Lets it exec the request's command: from then on it is the successor and reports to `handlers`. */
  launch(handlers: ChildHandlers): SpawnedChild;
  /** Ends it unlaunched (with the listening sockets it holds); idempotent. */
  discard(): void;
}

/** What the successor hears from its predecessor. */
export interface ParentHandlers {
  /** `handle`: a socket handle sent with the message, if any. */
  message: (message: unknown, handle?: unknown) => void;
  disconnect: () => void;
}

/** The successor's IPC channel to the process that spawned it. */
export interface ParentChannel {
  readonly connected: boolean;
  /** Resolves when the message was handed to the channel; rejects when the channel is gone. */
  send(message: ToPredecessor): Promise<void>;
  /** Starts listening; returns the function that stops it. */
  listen(handlers: ParentHandlers): () => void;
  disconnect(): void;
  /** Lets this process exit while the channel is still open (it only waits for handed-over connections then). */
  unref(): void;
}

/**
 * Everything the handoff does to the operating system, behind one interface so
 * that unit tests run the whole protocol without forking. The real one is
 * {@link nodeProcessEnvironment}; Linux only (it reads /proc).
 */
export interface ProcessEnvironment {
  readonly pid: number;
  readonly ppid: number;
  readonly platform: string;
  readonly execPath: string;
  readonly execArgv: readonly string[];
  readonly argv: readonly string[];
  /** The command line as typed (/proc/self/cmdline: node resolves argv[1] against the real cwd); undefined when unknown. */
  readonly cmdline?: readonly string[];
  /** The live environment: the handoff variable is deleted from it at start. */
  readonly env: Record<string, string | undefined>;
  cwd(): string;
  /** Starts a process; throws when that fails synchronously. */
  spawn(request: SpawnRequest, handlers: ChildHandlers): SpawnedChild;
  /** Forks `request`'s process now and holds it before its exec (see {@link PreparedChild}); absent where that cannot be done. */
  prepare?(request: SpawnRequest): PreparedChild;
  /** Sends a signal; false when no such process exists. */
  kill(pid: number, signal: NodeJS.Signals): boolean;
  /** The pids currently in /proc. */
  listPids(): number[];
  /**
   * The children of a process, from /proc/<pid>/task/<tid>/children (every thread's), or
   * undefined when the kernel has no such files (CONFIG_PROC_CHILDREN off) or the process is
   * gone: then only the whole table ({@link listPids}) can tell.
   */
  listChildren?(pid: number): number[] | undefined;
  /** The text of /proc/<pid>/stat, or undefined when the process is gone; throws when it cannot be read (EMFILE). */
  readStat(pid: number): string | undefined;
  writeFile(path: string, data: string): void;
  /** The text of a file, or undefined when it cannot be read. */
  readText(path: string): string | undefined;
  rename(from: string, to: string): void;
  /** The text of a file, or undefined when it does not exist or cannot be read. */
  readFile(path: string): string | undefined;
  /** Removes a file; nothing when it does not exist. */
  removeFile(path: string): void;
  /** The real path of an existing file or directory, or undefined (with the error code) when it cannot be reached. */
  realpath(path: string): { path: string } | { error: string };
  /** The IPC channel to our parent, when it spawned us with one. */
  parentChannel(): ParentChannel | undefined;
  /** Copies what this process writes to stdout/stderr to `listener`; returns the function that stops it. */
  tapOutput(listener: (stream: OutputStream, text: string) => void): () => void;
  /** Calls `listener` with an uncaught exception before the process dies of it; returns the function that stops it. */
  onFatal(listener: (error: unknown) => void): () => void;
  now(): number;
  /** Schedules `fn`; the real timers are `unref()`'d so they never keep the process alive. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}
