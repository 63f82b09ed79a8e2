#!/usr/bin/env bash
# The browser/native ratio of one verification (docs/PERFORMANCE.md, goal ≤ 3×): runs
# bench.mjs in headless Chromium and the native `timing` example back to back, ROUNDS times
# (default 3), and prints each pair's fastest-round times and their ratio. Alternating pairs
# keep both sides under the same machine load; the fastest round of each is the one least
# disturbed by it. Not a test: nothing fails on a number.
#
#   web-verifier/browser-tests/ratio.sh [ROUNDS]     (PKG=dir measures another module build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:-3}"

(cd "$here" && npm ci --no-audit --no-fund --silent)
(cd "$root" && cargo build --quiet --locked -p permitseal-server --bin permitseal)
(cd "$root" && cargo build --quiet --locked --release -p permitseal-web --example timing)
native="$root/target/release/examples/timing"

printf '%-6s %-22s %-22s %s\n' round "browser µs (min/med)" "native µs (min/med)" "ratio (min)"
for i in $(seq "$rounds"); do
    b=$(cd "$here" && node bench.mjs | sed -n 's/^browser: //p')
    n=$("$native")
    python3 - "$i" "$b" "$n" <<'PY'
import json, sys
i, b, n = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
bv, nv = b["verifyUs"], n["verifyUs"]
print(f'{i:<6} {bv["min"]:>8} / {bv["median"]:<11} {nv["min"]:>8} / {nv["median"]:<11} {bv["min"] / nv["min"]:.2f}×'
      f'   (unknown key: browser {b["unknownKeyUs"]["min"]}, native {n["unknownKeyUs"]["min"]})')
PY
done
