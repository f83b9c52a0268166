/** The variable that tells a successor what it inherited; read and deleted at start. */
export const HANDOFF_ENV = 'PROCESS_HANDOFF';

/** The protocol version this build speaks. */
export const HANDOFF_PROTOCOL = 1;

/** First file descriptor of the inherited listeners (0-2 stdio, 3 the IPC channel). */
export const FIRST_LISTENER_FD = 4;

/** What the predecessor passed: its pid (and start time) and the fd of each named listener. */
export interface Inheritance {
  v: number;
  parent: number;
  /**
   * The predecessor's start time (clock ticks since boot, /proc/<pid>/stat field 22):
   * with the pid, it tells the predecessor from a process that reused its pid.
   * Absent from a predecessor that could not read it.
   */
  start?: number;
  listeners: Record<string, number>;
  /** The predecessor's scheduling group nice value, to set back at ready (a successor started at a lower priority). */
  nice?: number;
  /** Started at SCHED_IDLE (successor-idle.ts): set the tree back to SCHED_OTHER when it listens. */
  idle?: boolean;
  /** The predecessor may stop this process's tree while it starts (start-yield.ts): continue it should the predecessor go away. */
  yields?: boolean;
}

/**
 * Variables that must not reach a successor: systemd's socket variables (they
 * name the predecessor's pid and fds) and Node's own IPC ones (the successor
 * gets a fresh channel), plus ours (it gets a fresh one).
 */
const NOT_INHERITED = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'NODE_UNIQUE_ID', HANDOFF_ENV];

type Env = Record<string, string | undefined>;

/** A copy of the environment as a successor should start with it (taken at start-up), without what must not be inherited. */
export function snapshotEnv(env: Env): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !NOT_INHERITED.includes(name)) copy[name] = value;
  }
  return copy;
}

/** The successor's environment: the snapshot plus its {@link Inheritance}. */
export function successorEnv(snapshot: Record<string, string>, inheritance: Inheritance): Record<string, string> {
  return { ...snapshotEnv(snapshot), [HANDOFF_ENV]: JSON.stringify(inheritance) };
}

/** The inheritance for listeners passed in this order at fds 4, 5, ... */
export function encodeInheritance(parent: number, names: readonly string[], start?: number): Inheritance {
  const listeners = Object.fromEntries(names.map((name, i) => [name, FIRST_LISTENER_FD + i]));
  return start === undefined ? { v: HANDOFF_PROTOCOL, parent, listeners } : { v: HANDOFF_PROTOCOL, parent, start, listeners };
}

/**
 * Reads and deletes {@link HANDOFF_ENV} from `env` (so that children such as
 * Chrome never see it). Like `LISTEN_PID`, it only counts when it names our
 * parent: a value inherited from further up belongs to someone else. A parent
 * that is gone counts too: a predecessor killed while we started has left us
 * its sockets (and we were reparented). `isRunning(pid, start)` must count a
 * zombie, an exiting process and a process with another start time as gone: a
 * SIGKILLed predecessor stays a zombie until its own parent reaps it, which a
 * busy or careless parent (an init that reaps late) does seconds later.
 *
 * @returns the inheritance, or `undefined` when this process was not started by a predecessor.
 * @throws when the value is present for us but malformed or of another protocol version.
 */
export function takeInheritance(env: Env, ppid: number, isRunning: (pid: number, start?: number) => boolean): Inheritance | undefined {
  const raw = env[HANDOFF_ENV];
  delete env[HANDOFF_ENV];
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${HANDOFF_ENV} is not JSON (${raw.slice(0, 80)}); unset it to start without a predecessor`, { cause: error });
  }
  const parsed = value as Partial<Inheritance> | null;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.parent !== 'number') {
    throw new Error(`${HANDOFF_ENV} has no parent pid (${raw.slice(0, 80)}); unset it to start without a predecessor`);
  }
  const start = typeof parsed.start === 'number' ? parsed.start : undefined;
  if (parsed.parent !== ppid && isRunning(parsed.parent, start)) return undefined;
  if (parsed.v !== HANDOFF_PROTOCOL) {
    throw new Error(
      `${HANDOFF_ENV} speaks protocol v${String(parsed.v)} but this build speaks v${HANDOFF_PROTOCOL}: ` +
        'a handoff between these two builds is not possible; restart instead',
    );
  }
  const listeners = parsed.listeners ?? {};
  for (const [name, fd] of Object.entries(listeners)) {
    if (!Number.isInteger(fd) || fd < FIRST_LISTENER_FD) throw new Error(`${HANDOFF_ENV} names a bad fd for listener '${name}': ${String(fd)}`);
  }
  return { v: parsed.v, parent: parsed.parent, ...(start === undefined ? {} : { start }), listeners, ...(Number.isInteger(parsed.nice) ? { nice: parsed.nice } : {}), ...(parsed.idle === true ? { idle: true } : {}), ...(parsed.yields === true ? { yields: true } : {}) };
}
