#!/usr/bin/env bash
# Fails when the committed Swift and Kotlin sources differ from what the current Rust API
# generates, and checks that the generated C header parses.
#
#   scripts/check-generated.sh          check
#   scripts/check-generated.sh --write  refresh the committed copies
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
tmp="$root/target/bindings-check"
"$here/scripts/generate.sh" "$tmp" >/dev/null

swift_dir="$here/swift/Sources/PermitSeal"
header_dir="$here/swift/include"
kotlin_dir="$here/android/src/main/kotlin/org/permitseal/mobile"
pairs=(
  "$tmp/swift/PermitSeal.swift:$swift_dir/PermitSeal.swift"
  "$tmp/swift/permitseal_mobileFFI.h:$header_dir/permitseal_mobileFFI.h"
  "$tmp/swift/permitseal_mobileFFI.modulemap:$header_dir/module.modulemap"
  "$tmp/kotlin/org/permitseal/mobile/permitseal_mobile.kt:$kotlin_dir/permitseal_mobile.kt"
)

if [[ "${1:-}" == "--write" ]]; then
  for p in "${pairs[@]}"; do
    mkdir -p "$(dirname "${p#*:}")"
    cp "${p%%:*}" "${p#*:}"
  done
  echo "committed bindings refreshed"
  exit 0
fi

status=0
for p in "${pairs[@]}"; do
  if ! diff -q "${p%%:*}" "${p#*:}" >/dev/null 2>&1; then
    echo "out of date: ${p#*:} (run mobile-bindings/scripts/check-generated.sh --write)"
    status=1
  fi
done
# The header uses clang's nullability qualifiers, which gcc does not know: define them away.
printf '#include "permitseal_mobileFFI.h"\n' > "$tmp/header-check.c"
gcc -fsyntax-only -Wall -Werror -D_Nonnull= -D_Nullable= -D_Null_unspecified= \
  -I "$tmp/swift" "$tmp/header-check.c"
[[ $status == 0 ]] && echo "generated bindings: up to date; C header parses"
exit $status
