#!/usr/bin/env bash
# Fails when a server or end-to-end test waits for the wall clock instead of setting the
# server's clock (permitseal_server::clock::Clock, or the deployment's clock offset file):
# a sleep of a second or more, or a loop until the time reaches some value. Short sleeps
# between polls of another process (a server starting, a cache following the database) are
# not waits for the time and stay allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
found=$(grep -rnE \
    'sleep\([^)]*from_secs|sleep\([^)]*from_millis\([0-9]{4,}|while[^{]*now\(\)' \
    server/tests tests/tests tests/src || true)
if [ -n "$found" ]; then
    echo "tests wait for the wall clock; set the clock instead:" >&2
    echo "$found" >&2
    exit 1
fi
echo "no test waits for the wall clock"
