// Runs one command in a process group of its own with a deadline, for
// run-tests.mjs: a step that hangs (a Jest that waits for a process a failed
// cleanup left running) is stopped, and the run goes on to its summary.
import { spawn } from 'node:child_process';

/** SIGTERM to the group, SIGKILL this long after, once the deadline has passed. */
const KILL_AFTER_MS = 10_000;

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error; // ESRCH: the group is gone already
  }
}

/**
 * Runs `command args` (stdio inherited unless given) in a new process group.
 * Resolves with 'ok' (exit 0), 'failed' (any other exit) or 'deadline' (still
 * running after `deadlineMs`: its group got SIGTERM, then SIGKILL after
 * `killAfterMs`). Whatever of the group outlives its leader is killed too.
 */
export function runWithDeadline(command, args, { deadlineMs, killAfterMs = KILL_AFTER_MS, onDeadline = () => undefined, ...options }) {
  const child = spawn(command, args, { stdio: 'inherit', ...options, detached: true });
  return new Promise((resolve, reject) => {
    let late = false;
    const deadline = setTimeout(() => {
      late = true;
      onDeadline();
      signalGroup(child.pid, 'SIGTERM');
      setTimeout(() => signalGroup(child.pid, 'SIGKILL'), killAfterMs).unref();
    }, deadlineMs);
    child.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(deadline);
      signalGroup(child.pid, 'SIGKILL');
      resolve(late ? 'deadline' : code === 0 ? 'ok' : 'failed');
    });
  });
}
