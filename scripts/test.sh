#!/usr/bin/env bash
# The README's test command: lint and format check, type check, production build, then the unit
# and integration suites. Integration tests use DATABASE_URL when it is set, otherwise an embedded
# PostgreSQL that they start and stop themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

# The end-to-end tests drive Debian's Chromium (no browser download is possible here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's chromium for the end-to-end tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The end-to-end tests need /usr/bin/chromium: install Debian's chromium package (apt-get install chromium)." >&2
    exit 1
  fi
fi

echo "== biome check"
npx biome check .
echo "== tsc --noEmit"
npx tsc --noEmit -p .
echo "== next build"
npx tsx scripts/build.ts
echo "== vitest"
npx vitest run
