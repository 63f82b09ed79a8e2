#!/usr/bin/env bash
# Instruction counts of issuing and of scan ingest, for docs/PERFORMANCE.md: runs a release
# `permitseal serve --demo` (fresh SQLite directory, free loopback port) under
# `valgrind --tool=callgrind` and the load generator against it three times, each into its own
# dump: `issue --permits 2000` (OUT.<pid>.1), `issue --permits 6000` (OUT.<pid>.2) and `scans`
# (OUT.<pid>.3, which issues its 2,000 permits first). Every run creates its own authority,
# keys and tokens, so the differences are the work itself:
#
#   per permit issued  = (run 2 - run 1) / 4000
#   per report ingested = (run 3 - run 1) / the reports run 3 prints
#
# Instruction counts do not depend on the machine's load, so two builds can be compared on a
# busy machine. LOAD_BIN names the load generator (default target/release/examples/load), so
# that two server builds are driven by one generator.
#
#   server/scripts/callgrind-load.sh BIN OUT [SCAN_SECONDS]
set -euo pipefail
bin=$1; out=$2; seconds=${3:-60}
load=${LOAD_BIN:-target/release/examples/load}
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out.%p" --dump-instr=no \
   "$bin" serve --demo --listen "127.0.0.1:$port" --data-dir "$data" >"$data/server.log" 2>&1 &
vg=$!
trap 'kill $vg 2>/dev/null || true; wait $vg 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 1200); do
  [ -f "$data/demo-tokens.env" ] && curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.5
done
# shellcheck disable=SC1091
source "$data/demo-tokens.env"
url="http://127.0.0.1:$port"
callgrind_control -z $vg >/dev/null
"$load" --url "$url" --admin-token "$PERMITSEAL_ADMIN_TOKEN" --concurrency 2 --permits 2000 issue
callgrind_control -d issue2000 $vg >/dev/null
"$load" --url "$url" --admin-token "$PERMITSEAL_ADMIN_TOKEN" --concurrency 2 --permits 6000 issue
callgrind_control -d issue6000 $vg >/dev/null
"$load" --url "$url" --admin-token "$PERMITSEAL_ADMIN_TOKEN" --concurrency 2 --seconds "$seconds" scans
callgrind_control -d scans $vg >/dev/null
