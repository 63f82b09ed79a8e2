#!/usr/bin/env bash
# Builds the host library and generates the Kotlin, Swift and Python sources from it
# (UniFFI library mode: the API is read from the compiled library's metadata).
#
#   scripts/generate.sh [OUT_DIR]     default OUT_DIR: target/bindings
#
# Writes OUT_DIR/{kotlin,swift,python}. The library and the generator are built with the
# same cargo invocation as `cargo test --workspace`, so neither rebuilds the other's work.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-$root/target/bindings}"

cargo build --workspace --all-targets --quiet
lib="$root/target/debug/libpermitseal_mobile.so"
[[ "$(uname)" == Darwin ]] && lib="$root/target/debug/libpermitseal_mobile.dylib"

rm -rf "$out/kotlin" "$out/swift" "$out/python"
for lang in kotlin swift python; do
  "$root/target/debug/uniffi-bindgen" generate --library "$lib" --language "$lang" \
    --no-format --out-dir "$out/$lang" >/dev/null
done
echo "generated from $lib into $out"
