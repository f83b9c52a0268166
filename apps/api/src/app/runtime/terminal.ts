import { closeSync, openSync } from 'node:fs';

/**
 * Whether a SIGHUP means that the controlling terminal went away (the terminal
 * window running `npm start` was closed) rather than "reload", which is what
 * `kill -HUP` and `systemctl reload` mean. A service has no terminal; a process
 * started from one that still exists can open /dev/tty, one whose terminal hung
 * up cannot (ENXIO/EIO).
 */
export function isTerminalHangup(
  hadTerminal = Boolean(process.stdin.isTTY || process.stdout.isTTY),
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
