#!/usr/bin/env bash
# The verify page's browser tests: Debian's Chromium (headless, driven by playwright-core)
# against the real permitseal binary on a random port with a fresh data directory.
# Installs what it needs when missing: chromium and ffmpeg from Debian, the npm packages of
# package-lock.json. Never downloads a browser of its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

(cd "$here" && npm ci --no-audit --no-fund --silent)
(cd "$root" && cargo build --quiet --locked -p permitseal-server --bin permitseal)
cd "$here"
PERMITSEAL_BIN="$root/target/debug/permitseal" node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
