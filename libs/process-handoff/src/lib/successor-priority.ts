import type { ProcessEnvironment } from './process-environment';
import type { HandoffLog } from './upgrader-options';

/**
 * A successor starts in a scheduling group of its own, at a lower priority, until it
 * says ready. Linux schedules by group before it schedules by process: with
 * autogrouping on (`/proc/sys/kernel/sched_autogroup_enabled`), each session is a
 * group, and a successor in its predecessor's session would share the serving
 * process's group as an equal, its start-up (modules, framework, browsers) taking
 * the CPU the serving event loop needs. So the successor gets a session of its own
 * (it is spawned detached), its group's nice value is raised at once, and when it
 * starts to listen (its start-up done: from then on it takes connections) or at
 * ready, whichever comes first, it sets its group back to the predecessor's value. A group's nice value may be
 * set back down to 0 without privilege (only negative values need it), unlike a
 * process's nice value, which is why the process's own is never touched.
 * Where autogrouping is off or the process runs in a cgroup of its own (containers,
 * systemd units with CPU accounting), the writes change nothing and cost nothing.
 */

/** `nice N` of `/proc/<pid>/autogroup` ("/autogroup-123 nice 0"); undefined without autogroup support. */
export function parseAutogroupNice(text: string | undefined): number | undefined {
  const match = /\bnice\s+(-?\d+)/.exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

/** How often, and how many times, a write refused with EAGAIN is tried again (the kernel allows one per 100 ms without CAP_SYS_ADMIN). */
const RETRY_MS = 110;
const RETRIES = 10;

/**
 * Writes `nice` to `/proc/<pid>/autogroup`, trying again while the kernel's rate limit
 * refuses it. Never throws: resolves with what happened, for the log.
 */
export async function setGroupNice(env: ProcessEnvironment, pid: number | 'self', nice: number): Promise<string> {
  const path = `/proc/${pid}/autogroup`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      env.writeFile(path, String(nice));
      return 'set';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'unsupported (no autogroup in this kernel)';
      if (code !== 'EAGAIN' || attempt >= RETRIES) return `failed: ${code ?? (error as Error).message}`;
      await new Promise((resolve) => env.setTimer(() => resolve(undefined), RETRY_MS));
    }
  }
}

/** The nice value of this process's own scheduling group, or undefined without autogroup support. */
export function ownGroupNice(env: ProcessEnvironment): number | undefined {
  return parseAutogroupNice(env.readText('/proc/self/autogroup'));
}

/** In the predecessor, right after spawn: the successor's group down to `nice` until it is ready. */
export async function lowerSuccessor(env: ProcessEnvironment, pid: number, nice: number, log: HandoffLog): Promise<void> {
  const result = await setGroupNice(env, pid, nice);
  if (result === 'set') log('info', `successor ${pid} starts in a scheduling group of its own at nice ${nice} until ready`);
  else log('warn', `could not lower the successor's scheduling group (${result}); it starts as an equal of this process`, { successorPid: pid });
}

/**
 * In the predecessor, when a lowered successor is not ready `afterMs` after its spawn:
 * its group back to `nice` (this process's), so that a busy neighbour cannot starve its
 * start. A successor that already listens did this itself; the write is then a no-op.
 */
export async function raiseStarvedSuccessor(env: ProcessEnvironment, pid: number, nice: number, afterMs: number, log: HandoffLog): Promise<void> {
  const result = await setGroupNice(env, pid, nice);
  if (result === 'set') log('warn', `successor ${pid} was not ready ${afterMs} ms after its start at a lower priority (a busy machine?): its scheduling group is set back to nice ${nice}`, { successorPid: pid });
  else log('warn', `could not set the starved successor's scheduling group back to nice ${nice} (${result}); it starts at a lower priority`, { successorPid: pid });
}

/** In the successor, as it becomes ready: its group back to the predecessor's nice value. */
export async function restoreOwnGroup(env: ProcessEnvironment, nice: number, log: HandoffLog): Promise<void> {
  const result = await setGroupNice(env, 'self', nice);
  if (result !== 'set') log('warn', `could not set this process's scheduling group back to nice ${nice} (${result}); it serves at a lower priority`);
}
