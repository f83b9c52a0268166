import { aliveState, readState, type ProcInfo } from './proc-tree';

/**
 * Resolves when one more step of letting Chromium go costs nobody else's latency (an API that
 * retires after a handoff: once its successor renders nothing), with the milliseconds it waited.
 * It should resolve within a bound of its own: each step waits for it.
 */
export type ChromePace = () => Promise<number>;

/** What a paced teardown did. */
export interface PacedTeardown {
  /** Processes of the tree killed one at a time. */
  processes: number;
  /** Time spent waiting on the pace, summed over the steps. */
  waitedMs: number;
  durationMs: number;
}

/** How long one killed process may take to finish its exit before the next step goes on anyway. */
const EXIT_WAIT_MS = 250;
/** How long the processes may take to stop (each does when it next runs) before the steps begin anyway. */
const STOP_WAIT_MS = 250;
/** How often a process is looked at until it stopped, or until its exit is done. */
const POLL_MS = 2;

/**
 * Lets Chromium's processes go one at a time, each only once `pace` resolved.
 *
 * Why: a process's exit (the kernel freeing the memory it mapped: about 5-15 ms of CPU for each
 * of Chromium's processes here) cannot be stopped once it began, and a browser's polite close
 * makes all of them exit at once, on both CPUs. Beside a render of the successor that cost it
 * about 1.5 times its steady latency (tools/bench/README.md, "A retirement paced by the
 * successor's work").
 *
 * Every process of the tree is stopped first (SIGSTOP), so that none reacts to another's death
 * (a browser would start a new network service or GPU process): what remains is only each
 * process's exit. The steps begin once every process has stopped (a stop takes effect when the
 * process next runs). Each is then killed (SIGKILL ends a stopped process at once), and the next
 * step waits until that exit is done (the process is a zombie or gone), at most
 * {@link EXIT_WAIT_MS}. The browser (`rootPid`) goes last. Its zombie children are reaped by
 * whoever adopts them (PID 1, tini, systemd), as after a crash.
 *
 * Never throws for a process that is gone already; the caller's sweep kills whatever is left.
 */
export async function teardownPaced(rootPid: number | undefined, procs: ProcInfo[], pace: ChromePace, deps: TeardownDeps = NODE_DEPS): Promise<PacedTeardown> {
  const started = deps.now();
  const pids = [...procs.map((p) => p.pid).filter((pid) => pid > 1 && pid !== rootPid), ...(rootPid !== undefined && rootPid > 1 ? [rootPid] : [])];
  const unique = [...new Set(pids)];
  for (const pid of unique) deps.signal(pid, 'SIGSTOP');
  // A stop takes effect when the process next runs: until then it may still act on a sibling's death.
  await until(deps, () => unique.every((pid) => !running(deps.state(pid))), STOP_WAIT_MS);
  let waitedMs = 0;
  let processes = 0;
  for (const pid of unique) {
    waitedMs += await pace();
    if (!deps.signal(pid, 'SIGKILL')) continue;
    processes += 1;
    await until(deps, () => !aliveState(deps.state(pid)), EXIT_WAIT_MS);
  }
  return { processes, waitedMs, durationMs: deps.now() - started };
}

/** Whether it may still run: alive and not stopped (T; t: stopped by a tracer). */
const running = (state: string | undefined) => aliveState(state) && state !== 'T' && state !== 't';

/** Polls `done` every {@link POLL_MS} until it holds or `ms` passed. */
async function until(deps: TeardownDeps, done: () => boolean, ms: number): Promise<void> {
  const deadline = deps.now() + ms;
  while (!done() && deps.now() < deadline) await deps.sleep(POLL_MS);
}

/** What {@link teardownPaced} does to processes; tests pass their own. */
export interface TeardownDeps {
  /** Sends `signal`; false when the process is gone already. */
  signal(pid: number, signal: 'SIGSTOP' | 'SIGKILL'): boolean;
  /** The process's state letter from /proc/<pid>/stat (R, S, T, Z, ...); undefined when it is gone. */
  state(pid: number): string | undefined;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** Sends `signal` to `target` (a pid, or -pgid); false when it is gone already (ESRCH), any other error thrown. */
export function trySignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    return false;
  }
}

const NODE_DEPS: TeardownDeps = {
  signal: trySignal,
  state: (pid) => readState(pid),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};
