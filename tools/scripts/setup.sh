#!/usr/bin/env bash
# Installs what the workspace needs on Debian/Ubuntu, only what is missing:
# the system Chromium (the QC pool drives it), nginx and systemd's offline tools
# (deployment tests), and the npm packages exactly as package-lock.json locks them.
# Run twice, the second run installs nothing and changes no file in the repository.
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

# npm ci only when node_modules was not installed from this exact lockfile and
# these dependency fields of package.json (a changed script needs no install);
# the stamp is written only after npm ci succeeded.
stamp=node_modules/.edu-agents-install.sha256
want=$(node -e '
const p = require("./package.json");
const keys = ["dependencies", "devDependencies", "optionalDependencies", "overrides", "allowScripts", "engines"];
process.stdout.write(JSON.stringify(keys.map((k) => p[k] ?? null)));
' | cat - package-lock.json | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: npm ci (node_modules does not match package-lock.json)" >&2
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
