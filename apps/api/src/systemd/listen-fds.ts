/** The first file descriptor a service manager passes (SD_LISTEN_FDS_START). */
export const SD_LISTEN_FDS_START = 3;

const LISTEN_VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

function parseCount(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) {
    throw new Error(
      `${name}="${raw}" is not a non-negative integer; the service manager passed a broken socket ` +
        'environment - check the .socket unit, or unset LISTEN_PID/LISTEN_FDS to listen on PORT',
    );
  }
  return Number(raw.trim());
}

/**
 * The listening socket a service manager passed to this process, following
 * sd_listen_fds(3): when `LISTEN_PID` names this process and `LISTEN_FDS` is
 * at least 1, the first socket is file descriptor 3. Serve on it with
 * `server.listen({ fd })`; PORT and HOST are then ignored, the socket unit
 * decides the address. With several sockets only the first is used.
 *
 * Like `sd_listen_fds(1)` it removes `LISTEN_PID`, `LISTEN_FDS` and
 * `LISTEN_FDNAMES` from `env` in every case, so that child processes (Chrome)
 * never believe the sockets are meant for them.
 *
 * @returns the file descriptor, or `undefined` when no socket was passed to
 *   this process (not socket-activated, or the variables belong to a parent).
 * @throws when `LISTEN_PID` or `LISTEN_FDS` is present but not an integer.
 *
 * @example
 * const fd = inheritedListenFd();
 * if (fd === undefined) server.listen(port, host); else server.listen({ fd });
 */
export function inheritedListenFd(
  env: Record<string, string | undefined> = process.env,
  pid: number = process.pid,
): number | undefined {
  const listenPid = env['LISTEN_PID'];
  const listenFds = env['LISTEN_FDS'];
  for (const name of LISTEN_VARIABLES) delete env[name];

  if (listenPid === undefined || listenFds === undefined) return undefined;
  if (parseCount('LISTEN_PID', listenPid) !== pid) return undefined;
  return parseCount('LISTEN_FDS', listenFds) >= 1 ? SD_LISTEN_FDS_START : undefined;
}
