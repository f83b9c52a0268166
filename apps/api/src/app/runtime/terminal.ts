import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';

/**
 * Whether a SIGHUP means that the controlling terminal went away (the terminal
 * window running `npm start` was closed) rather than "reload", which is what
 * `kill -HUP` and `systemctl reload` mean. A service has no terminal; a process
 * started from one that still exists can open /dev/tty, one whose terminal hung
 * up cannot (ENXIO/EIO).
 *
 * `isatty` on the descriptors rather than `process.stdin.isTTY`: the first read of
 * `process.stdin` builds its stream, 1.3-2.6 ms of a serving event loop at the SIGHUP that
 * starts a hot handoff.
 */
export function isTerminalHangup(
  hadTerminal = isatty(0) || isatty(1),
  open: (path: string) => number = (path) => openSync(path, 'r'),
): boolean {
  if (!hadTerminal) return false;
  try {
    closeSync(open('/dev/tty'));
    return false;
  } catch {
    return true;
  }
}
