#!/usr/bin/env bash
# Rebuilds the verify page's WebAssembly module and its JavaScript glue into
# server/assets/verify/pkg/, which the permitseal binary serves from memory. The output is
# committed; CI runs this script in a fresh clone and fails if the result differs.
#
# Reproducible across checkout folders and machines: source paths are remapped, the
# wasm-bindgen CLI must be exactly the version the crate pins, and the profile has one
# codegen unit; binaryen's wasm-opt comes pinned from npm. Needs Node.js with npm,
# `rustup target add wasm32-unknown-unknown` and
# `cargo install --locked --version <pinned> wasm-bindgen-cli`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

want=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' web-verifier/Cargo.toml)
bindgen="${WASM_BINDGEN:-wasm-bindgen}"
have=$("$bindgen" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
    echo "web-verifier/build.sh: needs wasm-bindgen $want (found '${have:-none}'):" >&2
    echo "  cargo install --locked --version $want wasm-bindgen-cli" >&2
    exit 1
fi

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
export RUSTFLAGS="--remap-path-prefix=$root=/src --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$rustup_home=/rustup"
# Its own target folder: other RUSTFLAGS would otherwise rebuild the host workspace.
export CARGO_TARGET_DIR="$root/target/web-verifier"
cargo build --locked -p permitseal-web --target wasm32-unknown-unknown --profile wasm

out=server/assets/verify/pkg
rm -rf "$out"
"$bindgen" --target web --no-typescript --out-dir "$out" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/permitseal_web.wasm"

# binaryen's optimiser over wasm-bindgen's output: a module a quarter smaller and a faster
# Ed25519 check (docs/PERFORMANCE.md). The version is pinned by web-verifier/wasm-opt's lock
# file; it runs in Node, so its output is the same on every machine.
(cd web-verifier/wasm-opt && npm ci --no-audit --no-fund --silent)
web-verifier/wasm-opt/node_modules/.bin/wasm-opt -O3 \
    "$out/permitseal_web_bg.wasm" -o "$out/permitseal_web_bg.wasm"
ls -l "$out"
