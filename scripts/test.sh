#!/usr/bin/env bash
# The README's test command: lint and format check, type check, production build, then the unit
# and integration suites. Integration tests use DATABASE_URL when it is set, otherwise an embedded
# PostgreSQL that they start and stop themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

echo "== biome check"
npx biome check .
echo "== tsc --noEmit"
npx tsc --noEmit -p .
echo "== next build"
npx tsx scripts/build.ts
echo "== vitest"
npx vitest run
