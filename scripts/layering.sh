#!/usr/bin/env bash
# Fails when code below or beside the HTTP layer reaches into it: the command line, the domain,
# storage and the shared wire types (`views`) call the domain and storage, never `http`, so that
# the HTTP handlers and the CLI are two front ends of the same core and neither borrows the
# other's code. Any path to the module counts (`crate::http`, `super::http`, `use crate::{http`).
set -euo pipefail
cd "$(dirname "$0")/.."
files=(server/src/cli.rs server/src/views.rs server/src/domain server/src/storage)
found=$(grep -rnE '(crate|super)::(\{[^}]*\b)?http\b' "${files[@]}" || true)
if [ -n "$found" ]; then
    echo "these import the HTTP layer; move what they need to views, domain or storage:" >&2
    echo "$found" >&2
    exit 1
fi
echo "cli, views, domain and storage do not import http"
