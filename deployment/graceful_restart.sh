#!/usr/bin/env bash
# Graceful restart of the Educational Agents API: the operator's entry point of the
# original setup, now a thin wrapper over the restart CLI (apps/restart-cli).
#
#   deployment/graceful_restart.sh                       # systemd unit edu_agents, http://127.0.0.1:8000/health
#   deployment/graceful_restart.sh --service edu_agents@1 --url http://127.0.0.1:8001/health
#   deployment/graceful_restart.sh --manager process --pid-file run/api.pid \
#       --start 'node dist/apps/api/main.js' --url http://127.0.0.1:8000/health
#
# By default the restart is a hot handoff (`--mode auto`, wherever /health says
# the instance supports it): the CLI runs `systemctl reload edu_agents` (the
# unit's ExecReload sends SIGHUP), the API starts its successor on the same
# socket, and the old process drains only once the new one serves; a new build
# that cannot start changes nothing and the CLI exits 5 with its error.
# `--mode replace` is the stop-then-start of the original script.
#
# All arguments go to `restart-cli graceful` (see `--help` for options and exit
# codes). Defaults added unless given: --url http://127.0.0.1:8000/health and,
# when no --service/--pid-file/--manager is given, --service edu_agents.
# The CLI's exit code is this script's exit code.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="$repo/dist/apps/restart-cli/main.js"

if [[ ! -f "$cli" ]]; then
  echo "graceful_restart.sh: building the restart CLI (dist/apps/restart-cli is missing)..." >&2
  (cd "$repo" && NX_DAEMON=false NX_NO_CLOUD=true npx nx build restart-cli >&2)
fi

has_url=false
has_target=false
for arg in "$@"; do
  case "$arg" in
    --url|--url=*) has_url=true ;;
    --service|--service=*|--pid-file|--pid-file=*|--manager|--manager=*) has_target=true ;;
  esac
done

defaults=()
$has_url || defaults+=(--url "http://127.0.0.1:8000/health")
$has_target || defaults+=(--service edu_agents)

exec node "$cli" graceful "${defaults[@]}" "$@"
