#!/bin/sh
# restart-loop.sh <program> [args...]
#
# A minimal stand-in for systemd's Restart=always: runs the program again each
# time it exits, until the file $STOP_FILE exists (at most $MAX_RUNS runs).
#
# Under systemd-socket-activate (LISTEN_FDS=1), fd 3 is the listening socket.
# This shell holds it open across restarts and never accepts on it; each run of
# the program gets it with LISTEN_PID set to the program's own pid (sd_listen_fds(3)
# ignores sockets meant for another pid). Between two runs the socket stays
# open, so new connections wait in the kernel backlog instead of being refused.
# Without LISTEN_FDS the program runs plainly (it binds its own port).
max=${MAX_RUNS:-5}
runs=0
while [ "$runs" -lt "$max" ]; do
  runs=$((runs + 1))
  if [ -n "${LISTEN_FDS:-}" ]; then
    /bin/sh -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"' program "$@"
  else
    "$@"
  fi
  [ -n "${STOP_FILE:-}" ] && [ -e "$STOP_FILE" ] && exit 0
done
echo "restart-loop: the program ran $max times; giving up" >&2
exit 1
