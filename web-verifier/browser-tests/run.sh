#!/usr/bin/env bash
# The browser tests of the verify page and the portal: Debian's Chromium (headless, driven by
# playwright-core) against the real permitseal binary on a random port with a fresh data
# directory (and, for the portal on PostgreSQL, a fresh database at $PERMITSEAL_TEST_PG).
# Installs what it needs when missing: Debian's packages (scripts/debian-packages.sh) and the npm
# packages of package-lock.json (playwright-core, axe-core). Never downloads a browser of its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

"$root/scripts/debian-packages.sh"

(cd "$here" && npm ci --no-audit --no-fund --silent)
(cd "$root" && cargo build --quiet --locked -p permitseal-server --bin permitseal)
cd "$here"
PERMITSEAL_BIN="$root/target/debug/permitseal" node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
