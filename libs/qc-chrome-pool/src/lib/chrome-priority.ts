import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * How Chromium is kept from competing with the event loop as an equal.
 *
 * Linux schedules by group before it schedules by process: with autogrouping on
 * (`/proc/sys/kernel/sched_autogroup_enabled`), every session is a group, and
 * puppeteer-style launches put each browser in a session of its own (detached).
 * A booting Chromium then weighs as much as the whole API, and a process's nice
 * value only orders processes inside one group. So the pool lowers both:
 * - the autogroup of Chromium's session (`/proc/<pid>/autogroup`): at nice 19 right
 *   after spawn, for the heavy start, then at the configured value once the pages are
 *   warm (a group's nice value may go back down to 0 without privilege), so that a
 *   serving Chromium also comes before a starting one (a handoff's successor's);
 * - the nice value of every Chromium process and thread, from its first instruction
 *   (`nice -n N`), and, when this process may raise priorities (root, CAP_SYS_NICE),
 *   without CAP_SYS_NICE (`setpriv`), since Chromium raises its own browser and GPU
 *   threads to nice -8 when it can.
 * Where autogrouping is off, or the API runs in a cgroup of its own (a container, a
 * systemd unit with CPU accounting), the nice value is what counts; the autogroup
 * write is then harmless. Lowering needs no privilege and is never undone: an
 * unprivileged process could not raise it back, so Chromium is started low instead
 * of the API's own priority being touched.
 */

/** The lowest priority: nice 19. 0 leaves Chromium as it starts itself. */
export const MAX_NICE = 19;

/** What the launch applied, for logs and `/qc-stats`. */
export interface ChromePriority {
  /** The nice value asked for (0: nothing applied). */
  nice: number;
  /**
   * The session's autogroup: `set` (written), `off` (written, but the kernel's
   * autogrouping is switched off), `unsupported` (no /proc/<pid>/autogroup),
   * `failed: <why>`, or `not asked` (nice 0).
   */
  autogroup: string;
  /** How the nice value is applied: `nice`, `nice without CAP_SYS_NICE`, `not asked`, or why not. */
  processes: string;
}

/** The command that starts `executable` at nice `nice`; `privileged` drops CAP_SYS_NICE first. */
export interface PriorityCommand {
  file: string;
  args: string[];
  processes: string;
}

/** Finds a program on PATH (then /usr/bin, /bin); undefined when absent. */
export function findProgram(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/bin', '/bin']) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      continue; // not in this directory
    }
  }
  return undefined;
}

/** True when this process may raise priorities: CAP_SYS_NICE (bit 23) in its effective set. */
export function hasSysNice(status = () => readFileSync('/proc/self/status', 'utf8')): boolean {
  try {
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status());
    return match !== null && (BigInt(`0x${match[1]}`) & (1n << 23n)) !== 0n;
  } catch {
    return false; // no /proc: nothing to drop
  }
}

/**
 * The command line that starts Chromium at nice `nice`: `nice -n N chromium ...`,
 * behind `setpriv` without CAP_SYS_NICE when `privileged`. Pure; `find` looks up programs.
 */
export function priorityCommand(
  executable: string,
  args: string[],
  nice: number,
  privileged: boolean,
  find: (name: string) => string | undefined = findProgram,
): PriorityCommand {
  if (nice === 0) return { file: executable, args, processes: 'not asked' };
  const niceBin = find('nice');
  if (!niceBin) return { file: executable, args, processes: 'not applied: no `nice` program on PATH (coreutils)' };
  const lowered = { file: niceBin, args: ['-n', String(nice), executable, ...args] };
  if (!privileged) return { ...lowered, processes: 'nice' };
  const setpriv = find('setpriv');
  if (!setpriv) return { ...lowered, processes: 'nice, but Chromium may raise its own threads: no `setpriv` program (util-linux) to drop CAP_SYS_NICE' };
  return {
    file: setpriv,
    args: ['--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice', '--', lowered.file, ...lowered.args],
    processes: 'nice without CAP_SYS_NICE',
  };
}

/** Effects on the system, injectable for tests. */
export interface AutogroupSystem {
  write(path: string, text: string): void;
  read(path: string): string;
  sleep(ms: number): Promise<void>;
}

const REAL_SYSTEM: AutogroupSystem = {
  write: (path, text) => writeFileSync(path, text),
  read: (path) => readFileSync(path, 'utf8'),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

/**
 * Sets the autogroup nice of `pid`'s session (down as well as up: only negative values
 * need privilege). The kernel lets a caller without
 * CAP_SYS_ADMIN do this once per 100 ms machine-wide (EAGAIN otherwise), so a few
 * retries cover browsers launched together.
 */
export async function lowerAutogroup(pid: number, nice: number, system: AutogroupSystem = REAL_SYSTEM): Promise<string> {
  if (nice === 0) return 'not asked';
  const path = `/proc/${pid}/autogroup`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      system.write(path, String(nice));
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'unsupported';
      if (code === 'EAGAIN' && attempt < 20) {
        await system.sleep(110);
        continue;
      }
      return `failed: ${code ?? (error as Error).message}`;
    }
  }
  try {
    return system.read('/proc/sys/kernel/sched_autogroup_enabled').trim() === '0' ? 'off' : 'set';
  } catch {
    return 'set';
  }
}

/** Validates a nice value for Chromium: an integer 0..19. */
export function validNice(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_NICE;
}
