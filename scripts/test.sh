#!/usr/bin/env bash
# The one command that runs every test: Rust (unit, integration, doc, against SQLite and the
# PostgreSQL at $PERMITSEAL_TEST_PG or 127.0.0.1:5432), schemathesis against the server's
# OpenAPI document, the independent Python verifier over the conformance vectors, and the
# Kotlin/Python binding tests when the mobile crate exists.
# Installs what it needs when it is missing. Fails when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "No test waits for the wall clock"
scripts/no-clock-waits.sh

say "Rust workspace tests"
cargo test --workspace --locked

say "HTTP API fuzzing from the OpenAPI document (schemathesis): no 5xx"
server/scripts/api-fuzz.sh

say "Independent verifier (written from docs/FORMAT.md) over test-vectors/v1"
if ! python3 -c 'import cryptography' 2>/dev/null; then
    pip install --quiet cryptography
fi
python3 test-vectors/independent/verify.py test-vectors/v1/vectors.json

if [ -x mobile-bindings/scripts/test-foreign.sh ]; then
    say "Kotlin (JVM) and Python binding tests"
    mobile-bindings/scripts/test-foreign.sh
fi
