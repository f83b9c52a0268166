#!/usr/bin/env bash
# Installs what the workspace needs on Debian/Ubuntu, only what is missing:
# the system Chromium (the QC pool drives it), nginx and systemd's offline tools
# (deployment tests), and the npm packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v chromium >/dev/null 2>&1 || [ -n "${CHROME_PATH:-}" ] || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v systemd-socket-activate >/dev/null 2>&1 || need+=(systemd)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ps >/dev/null 2>&1 || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]} with apt" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci only when node_modules was not installed from this exact lockfile.
stamp=node_modules/.edu-agents-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: npm ci" >&2
  # A registry mirror that lacks other platforms' optional packages (e.g.
  # @swc/core-darwin-*) makes npm ci refuse the lockfile as "out of sync";
  # npm install then installs the same locked versions and skips those.
  if ! npm ci --no-audit --no-fund; then
    echo "setup: npm ci refused the lockfile; installing the locked versions with npm install" >&2
    npm install --no-audit --no-fund
  fi
  echo "$want" > "$stamp"
fi
