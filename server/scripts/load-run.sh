#!/usr/bin/env bash
# One measurement of docs/PERFORMANCE.md's server table: starts a release `permitseal serve
# --demo` on a free loopback port over a fresh database (SQLite in a temporary directory, or a
# new database on the PostgreSQL server at $2), runs the load generator against it, stops it
# and removes the data. Prints the load generator's lines.
#
#   server/scripts/load-run.sh sqlite|postgres [POSTGRES_ADMIN_URL] -- [load arguments…]
#
# PERMITSEAL_BIN and LOAD_BIN name the two release binaries (default: target/release/permitseal
# and target/release/examples/load), so that two builds can be measured with one generator.
set -euo pipefail
cd "$(dirname "$0")/../.."

backend=${1:?sqlite or postgres}
shift
admin_url=postgres://postgres@127.0.0.1:5432/postgres
if [ "$backend" = postgres ] && [ "${1:-}" != "--" ] && [ -n "${1:-}" ]; then
    admin_url=$1
    shift
fi
[ "${1:-}" = "--" ] && shift

bin=${PERMITSEAL_BIN:-target/release/permitseal}
load=${LOAD_BIN:-target/release/examples/load}
data=$(mktemp -d)
db_name=""
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    if [ -n "$db_name" ]; then
        psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name" >/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT

database_url=""
if [ "$backend" = postgres ]; then
    db_name="permitseal_load_$$_$RANDOM"
    psql -q "$admin_url" -c "CREATE DATABASE $db_name" >/dev/null
    database_url="${admin_url%/*}/$db_name"
fi

# A free port: bind port 0, read it back, release it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL=$database_url RUST_LOG=warn "$bin" serve --demo --listen "127.0.0.1:$port" \
    --data-dir "$data" >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
    [ -f "$data/demo-tokens.env" ] && curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
    sleep 0.1
done
# shellcheck disable=SC1091
source "$data/demo-tokens.env"
"$load" --url "http://127.0.0.1:$port" --admin-token "$PERMITSEAL_ADMIN_TOKEN" "$@"
