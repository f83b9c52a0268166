import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { epochNow, type LoadOptions, type LoadRun } from './load-generator';
import type { LoadMix } from './load-mix';
import type { LagStats } from './load-report';
import { WORKSPACE } from './workspace';

/** What {@link startLoadProcess} sends to the load process: {@link LoadOptions} as data. */
export type LoadProcessSpec = Omit<LoadOptions, 'request' | 'now'> & { mix: LoadMix };

/** The lines the load process prints on stdout. */
export type LoadProcessEvent =
  | { event: 'started'; pid: number; t0Epoch: number }
  | { event: 'done'; run: LoadRun; sendLag: LagStats; eventLoopDelay: LagStats; gc: LoadProcessGc };

/** The load process's own garbage collections, on the load's time line (ms since t0). */
export interface LoadProcessGc {
  /** Full (mark-compact) collections: each one's start and length. */
  major: { atMs: number; ms: number }[];
  /** Young-generation collections (scavenges): how many, and their summed length. */
  minor: { count: number; ms: number };
}

/** The load process's report: every request's record, and its own health. */
export interface LoadProcessReport {
  run: LoadRun;
  /** How late requests left after their scheduled time. */
  sendLag: LagStats;
  /** The load process's event-loop delay (perf_hooks), a second view of the same. */
  eventLoopDelay: LagStats;
  /** Its own collections: a full one marks with helper threads and takes CPU from what it measures. */
  gc: LoadProcessGc;
}

/** A running load process. */
export interface LoadProcess {
  pid: number;
  /** Wall-clock ms at the load's t0: `epochNow() - t0Epoch` puts this process's events on the load's time line. */
  t0Epoch: number;
  /** Ms since the load's t0, read in this process. */
  elapsed(): number;
  /** Ends the schedule (an IPC message; SIGTERM works too). */
  stop(): void;
  /** The report, once the schedule ended and every request has its outcome. */
  done: Promise<LoadProcessReport>;
}

export const LOAD_PROCESS_ENTRY = join(__dirname, 'load-process.ts');

/**
 * The load process's initial old space (MB), so that a run of a minute or two does no full collection.
 * At V8's default the old space filled with what the load keeps (every request's record, the
 * clients) after about 37 s at 200 req/s: a mark-compact whose helper threads took 40-70 ms of CPU
 * in one 100 ms, which in restart-bench fell on the start of the restart in 8 of 12 one-instance
 * rows at 200 req/s (tools/bench/README.md, "The load's own collection"). At 128 MB the old space
 * holds about 4 minutes at 500 req/s; past that it collects as before.
 */
const LOAD_PROCESS_OLD_SPACE_MB = 128;

/**
 * V8's flags for the load process: the old space above, and no memory reducer, which otherwise
 * collected that larger old space in a row of three full collections 0.6 s apart whenever it took
 * the load for idle (8.1-9.3 s into both 200 req/s rows of the run of 03:37, and 32.4 s into pm2's).
 */
const LOAD_PROCESS_V8_FLAGS = [`--initial-old-space-size=${LOAD_PROCESS_OLD_SPACE_MB}`, '--no-memory-reducer'];

/** How the load process is scheduled next to what it measures. */
export interface LoadProcessPlacement {
  /**
   * A session of its own (so a scheduling group of its own where autogrouping is on) at this
   * nice value, group and process alike; absent: the caller's session and priority. Below 0
   * needs CAP_SYS_NICE. Clients of a real service do not share its host's CPUs: a load process
   * ahead of the service on the CPU measures the service rather than its own waits.
   */
  nice?: number;
  /**
   * A session of its own at `SCHED_FIFO` priority 1 (needs CAP_SYS_NICE or RLIMIT_RTPRIO): it
   * preempts every ordinary thread of the host at once, as if it ran on a machine of its own. No
   * `nice` with it. The kernel's real-time throttling still leaves the host 5 % of each second.
   */
  realtime?: boolean;
}

/** Whether this process may start a load process at SCHED_FIFO: chrt runs a program at that priority here. */
export function realtimeAllowed(): boolean {
  return spawnSync('chrt', ['--fifo', '1', 'true']).status === 0;
}

/** Puts a just-spawned process's threads at SCHED_FIFO 1 (its later threads inherit it); throws naming what refused. */
function placeRealtime(pid: number): void {
  const run = spawnSync('chrt', ['--fifo', '--all-tasks', '--pid', '1', String(pid)], { encoding: 'utf8' });
  if (run.error) throw new Error(`could not run chrt to put the load process at SCHED_FIFO (util-linux): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`could not put the load process at SCHED_FIFO 1 (needs CAP_SYS_NICE or RLIMIT_RTPRIO): ${run.stderr.trim()}`);
}

/** Puts a just-spawned process's session group and main thread at `nice`; throws naming what refused. */
function placeLoadProcess(pid: number, nice: number): void {
  try {
    setPriority(pid, nice);
  } catch (error) {
    throw new Error(`could not set the load process to nice ${nice} (below 0 needs CAP_SYS_NICE): ${(error as Error).message}`);
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch (error) {
    // No autogroups (kernel without CONFIG_SCHED_AUTOGROUP): the process's own nice is what counts.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`could not set the load process's scheduling group to nice ${nice}: ${(error as Error).message}`);
  }
}

/**
 * Starts the open-loop load generator in a process of its own (node with
 * @swc-node/register on load-process.ts) and resolves once its schedule runs.
 */
export function startLoadProcess(spec: LoadProcessSpec, startTimeoutMs = 30_000, placement: LoadProcessPlacement = {}): Promise<LoadProcess> {
  const { nice, realtime = false } = placement;
  if (nice !== undefined && !(Number.isInteger(nice) && nice >= -20 && nice <= 19)) {
    return Promise.reject(new Error(`the load process's nice value must be an integer from -20 to 19 (got ${nice})`));
  }
  if (nice !== undefined && realtime) return Promise.reject(new Error('the load process runs either at a nice value or at SCHED_FIFO, not both'));
  const ownSession = nice !== undefined || realtime;
  const child = spawn(process.execPath, [...LOAD_PROCESS_V8_FLAGS, '-r', '@swc-node/register', LOAD_PROCESS_ENTRY, JSON.stringify(spec)], {
    cwd: WORKSPACE,
    env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE, 'tsconfig.base.json') },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // A session of its own is a scheduling group of its own (it still ends with the IPC channel).
    detached: ownSession,
  });
  if (ownSession && child.pid !== undefined) {
    try {
      if (realtime) placeRealtime(child.pid);
      else placeLoadProcess(child.pid, nice as number);
    } catch (error) {
      child.kill('SIGKILL');
      return Promise.reject(error);
    }
  }
  type Started = Extract<LoadProcessEvent, { event: 'started' }>;
  const settle = { started: (_: Started) => undefined as void, done: (_: LoadProcessReport) => undefined as void, fail: (_: Error) => undefined as void };
  const started = new Promise<Started>((resolve, reject) => {
    settle.started = resolve;
    settle.fail = reject;
  });
  const done = new Promise<LoadProcessReport>((resolve, reject) => {
    settle.done = resolve;
    const failStart = settle.fail;
    settle.fail = (error) => (failStart(error), reject(error)); // a settled promise ignores the second call
  });
  done.catch(() => undefined); // an early failure is reported through `started`; later, the caller awaits `done`
  let buffer = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout?.on('data', (c: Buffer) => {
    buffer += c.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue; // not one of ours (a warning of the TypeScript loader)
      const event = JSON.parse(line) as LoadProcessEvent;
      if (event.event === 'started') settle.started(event);
      else settle.done({ run: event.run, sendLag: event.sendLag, eventLoopDelay: event.eventLoopDelay, gc: event.gc });
    }
  });
  child.once('error', (error) => settle.fail(new Error('could not start the load process', { cause: error })));
  child.once('close', (code, signal) => settle.fail(new Error(`the load process ended (${code ?? signal}) without a report:\n${stderr}`)));
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
    settle.fail(new Error(`the load process did not start within ${startTimeoutMs} ms:\n${stderr}`));
  }, startTimeoutMs);
  return started.then(
    ({ pid, t0Epoch }) => {
      clearTimeout(timer);
      const stop = () => {
        if (child.connected) child.send({ type: 'stop' });
        else if (child.exitCode === null) child.kill('SIGTERM');
      };
      return { pid, t0Epoch, elapsed: () => epochNow() - t0Epoch, stop, done };
    },
    (error: Error) => {
      clearTimeout(timer);
      throw error;
    },
  );
}
