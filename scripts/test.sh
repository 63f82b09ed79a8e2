#!/usr/bin/env bash
# The one command that runs every test: Rust (unit, integration, doc, against SQLite and the
# PostgreSQL at $PERMITSEAL_TEST_PG or 127.0.0.1:5432), schemathesis against the server's
# OpenAPI document, the independent Python verifier over the conformance vectors, the verify
# page in headless Chromium, and the Kotlin/Python binding tests when the mobile crate exists.
# Installs what it needs when it is missing. Fails when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "No test waits for the wall clock"
scripts/no-clock-waits.sh

say "The CLI, domain and storage do not import the HTTP layer"
scripts/layering.sh
say "No import cycles between the server's modules; storage and domain below http"
scripts/module-deps.py --self-test
scripts/module-deps.py server/src

say "Rust workspace tests"
# The image decoder's test compares it with ZBar on the same images; the document tests render
# with poppler; the browser tests below need Chromium.
scripts/debian-packages.sh
cargo test --workspace --locked

say "HTTP API fuzzing from the OpenAPI document (schemathesis): no 5xx, answers as documented"
server/scripts/api-fuzz.sh

say "Independent verifier (written from docs/FORMAT.md) over test-vectors/v1"
if ! python3 -c 'import cryptography' 2>/dev/null; then
    pip install --quiet cryptography
fi
for vectors in test-vectors/v1/vectors.json test-vectors/v1/vectors-2.json test-vectors/v1/vectors-3.json test-vectors/v1/vectors-4.json test-vectors/v1/vectors-5.json test-vectors/v1/vectors-6.json test-vectors/v1/device-reports.json; do
    python3 test-vectors/independent/verify.py "$vectors"
done

say "Independent transparency log checker (RFC 9162, from docs/FORMAT.md §12) over test-vectors/v1/log.json"
python3 test-vectors/independent/log.py test-vectors/v1/log.json

say "Verify page in headless Chromium: WebAssembly core, camera, offline, recording"
web-verifier/browser-tests/run.sh

if [ -x mobile-bindings/scripts/test-foreign.sh ]; then
    say "Kotlin (JVM) and Python binding tests"
    mobile-bindings/scripts/test-foreign.sh
fi
