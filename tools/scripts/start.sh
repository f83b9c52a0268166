#!/usr/bin/env bash
# `npm start`: install what is missing, build the API, then become it. `exec`
# makes node the process npm started, so the SIGTERM or SIGINT npm forwards
# reaches the API itself, which drains and exits; nothing is left behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/setup.sh
NX_DAEMON=false NX_NO_CLOUD=true npx nx build api --output-style=static
exec node dist/apps/api/main.js
