#!/usr/bin/env bash
# The handoff's process-level tests in one go: process-handoff's *.process.spec.ts
# suites, its fault campaign (libs/process-handoff/e2e) and the api's handoff e2e
# (apps/api/e2e/handoff). Every suite runs even when an earlier one failed; the exit
# status is 1 when any failed. Needs the built API (npx nx build api).
# Under a busy neighbour, five times in a row (issue 16):
#   node tools/scripts/under-busy-cores.mjs --rounds 5 -- bash tools/scripts/handoff-process-tests.sh
set -u
cd "$(dirname "$0")/../.."
if [ ! -f dist/apps/api/main.js ]; then
  echo "handoff-process-tests: dist/apps/api/main.js is missing; run npx nx build api first" >&2
  exit 2
fi
status=0
npx jest -c libs/process-handoff/jest.config.cts --testPathPatterns 'process\.spec\.ts$' || status=1
npx jest -c libs/process-handoff/e2e/jest.config.cts || status=1
npx jest -c apps/api/e2e/jest.config.cts --testPathPatterns 'handoff/' || status=1
exit "$status"
