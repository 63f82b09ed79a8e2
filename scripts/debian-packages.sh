#!/usr/bin/env bash
# Installs the Debian packages the tests use, when any is missing: poppler-utils and zbar-tools
# (paper permits), chromium and chromium-driver (browser tests), ffmpeg (the camera test's fake
# video), postgresql-client (the portal's PostgreSQL database). One apt-get call, its output kept
# in a log; a dpkg left half-configured by an interrupted earlier install is repaired
# (`dpkg --configure -a`, `apt-get -f install`) and the install tried once more. On failure the
# log's end is printed, so CI says why.
set -euo pipefail
want=(poppler-utils:pdftoppm zbar-tools:zbarimg chromium:chromium chromium-driver:chromedriver
      ffmpeg:ffmpeg postgresql-client:psql)
missing=()
for pair in "${want[@]}"; do
    command -v "${pair#*:}" >/dev/null || missing+=("${pair%%:*}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "apt-get install ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get update -q >>"$log" 2>&1 && apt-get install -y -q "${missing[@]}" >>"$log" 2>&1
}
if ! apt_install; then
    echo "apt-get failed; repairing dpkg and trying again" >&2
    dpkg --configure -a >>"$log" 2>&1 || true
    apt-get -f install -y -q >>"$log" 2>&1 || true
    if ! apt_install; then
        tail -n 40 "$log" >&2
        exit 1
    fi
fi
for pair in "${want[@]}"; do
    if ! command -v "${pair#*:}" >/dev/null; then
        tail -n 40 "$log" >&2
        echo "apt-get said it installed ${pair%%:*}, but ${pair#*:} is not on PATH" >&2
        exit 1
    fi
done
