#!/usr/bin/env bash
# Instruction counts of the signed-list GETs, for docs/PERFORMANCE.md: runs a release
# `permitseal serve --demo` (fresh SQLite directory, free loopback port) under
# `valgrind --tool=callgrind`, warms it with 40 GETs, then counts N GETs of /api/v1/bundle and N
# of the authority's status list over one kept-alive connection, each into its own dump
# (OUT.<pid>.1 and OUT.<pid>.2). Instruction counts do not depend on the machine's load, so two
# builds can be compared on a busy machine; read the dumps with `callgrind_annotate`.
#
#   server/scripts/callgrind-gets.sh BIN OUT [N]
set -euo pipefail
bin=$1; out=$2; n=${3:-300}
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out.%p" --dump-instr=no \
   "$bin" serve --demo --listen "127.0.0.1:$port" --data-dir "$data" >"$data/server.log" 2>&1 &
vg=$!
for _ in $(seq 1 1200); do
  [ -f "$data/demo-tokens.env" ] && curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.5
done
source "$data/demo-tokens.env"
export PORT=$port AUTH=$PERMITSEAL_AUTHORITY N=$n
python3 - <<'PY'
import http.client, os
c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]))
for p in ["/api/v1/bundle", f"/api/v1/authorities/{os.environ['AUTH']}/status"]*20:
    c.request("GET", p); r = c.getresponse(); r.read(); assert r.status == 200, r.status
PY
callgrind_control -z $vg >/dev/null
python3 - <<'PY'
import http.client, os
c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]))
for _ in range(int(os.environ["N"])):
    c.request("GET", "/api/v1/bundle"); r = c.getresponse(); r.read(); assert r.status == 200
PY
callgrind_control -d bundle $vg >/dev/null
python3 - <<'PY'
import http.client, os
c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]))
for _ in range(int(os.environ["N"])):
    c.request("GET", f"/api/v1/authorities/{os.environ['AUTH']}/status"); r = c.getresponse(); r.read(); assert r.status == 200
PY
callgrind_control -d status $vg >/dev/null
kill $vg; wait $vg || true
rm -rf "$data"
