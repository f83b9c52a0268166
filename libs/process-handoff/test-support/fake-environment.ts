import type { OutputStream } from '../src/lib/handoff-messages';
import type { ChildHandlers, ParentChannel, PreparedChild, ProcessEnvironment, SpawnedChild, SpawnRequest } from '../src/lib/process-environment';
import { FakeChild, FakeParentChannel } from './fake-channels';

export { FakeChild, FakeParentChannel };

/** A process in the fake /proc. */
export interface FakeProc {
  ppid: number;
  pgid: number;
  state?: string;
  startTime?: number;
  /** The command name (field 2); default `node (x) y`, a name with spaces and parentheses. */
  comm?: string;
  /** A zombie's wait status (field 52). */
  exitCode?: number;
}

/**
 * The whole operating system as the handoff sees it, in memory: spawn hands out
 * {@link FakeChild}ren, /proc is a map, SIGKILL of a child makes it exit on the
 * next microtask, timers are the (jest-faked) global ones.
 */
export class FakeEnvironment implements ProcessEnvironment {
  pid = 100;
  ppid = 1;
  platform = 'linux';
  execPath = '/usr/bin/node';
  execArgv = ['-r', '@swc-node/register'];
  argv = ['/usr/bin/node', '/srv/app/main.js', '--port', '8000'];
  env: Record<string, string | undefined> = { PATH: '/usr/bin', PORT: '8000' };
  workdir = '/srv/app';
  readonly children: FakeChild[] = [];
  readonly signals: [number, NodeJS.Signals][] = [];
  readonly procs = new Map<number, FakeProc>([[100, { ppid: 1, pgid: 100 }]]);
  readonly files = new Map<string, string>();
  /** Paths that cannot be reached (a deploy removed them); any other path exists. */
  readonly missing = new Set<string>();
  /** Symbolic links: path -> real path. */
  readonly links = new Map<string, string>();
  cmdline: string[] | undefined;
  readonly fileOps: string[] = [];
  channel: FakeParentChannel | undefined;
  spawnThrows: Error | undefined;
  nextPid = 200;
  private taps = new Set<(stream: OutputStream, text: string) => void>();
  private fatals = new Set<(error: unknown) => void>();

  cwd(): string {
    return this.workdir;
  }

  spawn(request: SpawnRequest, handlers: ChildHandlers): SpawnedChild {
    if (this.spawnThrows) throw this.spawnThrows;
    const pid = this.nextPid++;
    this.procs.set(pid, { ppid: this.pid, pgid: 100 });
    const child = new FakeChild(pid, request, handlers);
    this.children.push(child);
    return child;
  }

  /** Every process forked ahead (prepareSuccessor), in order. */
  readonly prepared: FakePrepared[] = [];

  prepare(request: SpawnRequest): PreparedChild {
    const pid = this.nextPid++;
    this.procs.set(pid, { ppid: this.pid, pgid: 100 });
    const prepared = new FakePrepared(pid, request, (handlers) => {
      const child = new FakeChild(pid, request, handlers);
      this.children.push(child);
      return child;
    });
    this.prepared.push(prepared);
    return prepared;
  }

  get lastChild(): FakeChild {
    const child = this.children.at(-1);
    if (!child) throw new Error('nothing was spawned');
    return child;
  }

  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.signals.push([pid, signal]);
    const target = Math.abs(pid);
    if (signal !== 'SIGKILL') return this.procs.has(target);
    const victims = pid < 0 ? [...this.procs].filter(([, p]) => p.pgid === target).map(([p]) => p) : [target];
    for (const victim of victims) {
      this.procs.delete(victim);
      const child = this.children.find((c) => c.pid === victim);
      if (child) void Promise.resolve().then(() => child.exit(null, 'SIGKILL'));
    }
    return victims.length > 0;
  }

  /** Whole-table listings so far (a walk of every process of the host). */
  tableReads = 0;
  /** Off: a kernel without /proc/<pid>/task/<tid>/children. */
  childrenFiles = true;

  listPids(): number[] {
    this.tableReads += 1;
    return [...this.procs.keys()];
  }

  listChildren(pid: number): number[] | undefined {
    if (!this.childrenFiles || !this.procs.has(pid)) return undefined;
    return [...this.procs].filter(([, p]) => p.ppid === pid).map(([child]) => child);
  }

  readStat(pid: number): string | undefined {
    const p = this.procs.get(pid);
    if (!p) return undefined;
    const rest = Array.from({ length: 50 }, () => '0');
    rest[0] = p.state ?? 'S';
    rest[1] = String(p.ppid);
    rest[2] = String(p.pgid);
    rest[19] = String(p.startTime ?? 1000 + pid);
    rest[49] = String(p.exitCode ?? 0);
    return `${pid} (${p.comm ?? 'node (x) y'}) ${rest.join(' ')}\n`;
  }

  readText(path: string): string | undefined {
    return this.files.get(path);
  }

  writeFile(path: string, data: string): void {
    this.fileOps.push(`write ${path}`);
    this.files.set(path, data);
  }

  rename(from: string, to: string): void {
    this.fileOps.push(`rename ${from} ${to}`);
    const data = this.files.get(from);
    if (data === undefined) throw new Error(`ENOENT: ${from}`);
    this.files.delete(from);
    this.files.set(to, data);
  }

  readFile(path: string): string | undefined {
    return this.files.get(path);
  }

  removeFile(path: string): void {
    if (this.files.delete(path)) this.fileOps.push(`remove ${path}`);
  }

  realpath(path: string): { path: string } | { error: string } {
    return this.missing.has(path) ? { error: 'ENOENT' } : { path: this.links.get(path) ?? path };
  }

  parentChannel(): ParentChannel | undefined {
    return this.channel;
  }

  tapOutput(listener: (stream: OutputStream, text: string) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  onFatal(listener: (error: unknown) => void): () => void {
    this.fatals.add(listener);
    return () => this.fatals.delete(listener);
  }

  /** This process writes to stdout/stderr. */
  write(stream: OutputStream, text: string): void {
    this.taps.forEach((tap) => tap(stream, text));
  }

  /** This process dies of an uncaught exception. */
  crash(error: unknown): void {
    this.fatals.forEach((fatal) => fatal(error));
  }

  get tapped(): boolean {
    return this.taps.size > 0;
  }

  now(): number {
    return Date.now();
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = setTimeout(fn, ms);
    (timer as { unref?: () => void }).unref?.(); // like the real ones: a watch that never ends keeps no test alive
    return timer;
  }

  clearTimer(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

/**
 * The environment of the successor `child` of `predecessor`: started with the
 * request's environment, its parent's pid, and a channel wired to `child`, so
 * that two upgraders talk the whole protocol in memory.
 */
export function successorEnvironment(predecessor: FakeEnvironment, child: FakeChild): FakeEnvironment {
  const env = new FakeEnvironment();
  env.pid = child.pid as number;
  env.ppid = predecessor.pid;
  env.env = { ...child.request.env };
  env.procs.set(predecessor.pid, predecessor.procs.get(predecessor.pid) as FakeProc);
  const channel = new FakeParentChannel();
  channel.peer = (message) => child.says(message);
  child.peer = (message, handle) => channel.deliver(message, handle);
  env.channel = channel;
  return env;
}

/** A process forked ahead: the test may end it (`exited`); `launch` turns it into a {@link FakeChild}. */
export class FakePrepared implements PreparedChild {
  launched = false;
  discarded = false;
  /** Set by the test: it ended before the upgrade. */
  exited: string | undefined;

  constructor(
    readonly pid: number,
    readonly request: SpawnRequest,
    private readonly start: (handlers: ChildHandlers) => FakeChild,
  ) {}

  get unusable(): string | undefined {
    if (this.launched) return 'it was launched';
    if (this.discarded) return 'it was discarded';
    return this.exited;
  }

  launch(handlers: ChildHandlers): SpawnedChild {
    if (this.unusable !== undefined) throw new Error(`cannot launch: ${this.unusable}`);
    this.launched = true;
    return this.start(handlers);
  }

  discard(): void {
    if (this.unusable === undefined) this.discarded = true;
  }
}
