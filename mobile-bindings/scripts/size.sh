#!/usr/bin/env bash
# Builds the SDK library as phones get it (the `mobile` profile, stripped) for 64-bit ARM and
# 32-bit ARM Linux, the same instruction sets and ELF format as Android's arm64-v8a and
# armeabi-v7a, prints the sizes, and fails when the arm64 library exceeds the budget. Phones
# build without the default `rust-http` feature (the sync client is in; its HTTP is the
# platform's), so that is what is measured.
#
#   mobile-bindings/scripts/size.sh             budget 1,000,000 bytes (the goal)
#   SIZE_BUDGET=900000 mobile-bindings/scripts/size.sh
#
# Needs the Rust targets and the GNU cross linkers; as root
# on Debian it installs what is missing. No NDK exists on this machine, so Android's own
# libraries are not what is measured: Android links the same code against bionic instead of
# glibc, and cargo-ndk adds packed relocations (see build-android.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
# The goal is 1,000,000 bytes (docs/PERFORMANCE.md). The stripped size moves in steps of 64 KiB:
# GNU ld on arm64 pads the file so that the end of the read-only-after-relocation data falls
# on a 64 KiB boundary, so the code and read-only data (the first LOAD segment of
# `readelf -l`) can grow until they reach the second segment's file offset before the file
# grows at all, and then it grows by 64 KiB at once. That headroom is printed below.
budget="${SIZE_BUDGET:-1000000}"

# target triple : GNU tool prefix : Debian package
targets=(
  "aarch64-unknown-linux-gnu:aarch64-linux-gnu:gcc-aarch64-linux-gnu"
  "armv7-unknown-linux-gnueabihf:arm-linux-gnueabihf:gcc-arm-linux-gnueabihf"
)

for spec in "${targets[@]}"; do
  IFS=: read -r triple prefix package <<<"$spec"
  if ! rustup target list --installed | grep -qx "$triple"; then
    rustup target add "$triple" >/dev/null
  fi
  if ! command -v "$prefix-gcc" >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    else
      echo "size: $prefix-gcc is missing (Debian package $package)" >&2
      exit 1
    fi
  fi
done

sizes=()
for spec in "${targets[@]}"; do
  IFS=: read -r triple prefix _ <<<"$spec"
  env_triple="$(echo "$triple" | tr 'a-z-' 'A-Z_')"
  export "CARGO_TARGET_${env_triple}_LINKER=$prefix-gcc"
  export "CC_${triple//-/_}=$prefix-gcc" "AR_${triple//-/_}=$prefix-ar"
  cargo build --quiet --locked --profile mobile -p permitseal-mobile --no-default-features --target "$triple"
  lib="$root/target/$triple/mobile/libpermitseal_mobile.so"
  "$prefix-strip" -o "$root/target/$triple/mobile/libpermitseal_mobile.stripped.so" "$lib"
  bytes="$(stat -c %s "$root/target/$triple/mobile/libpermitseal_mobile.stripped.so")"
  sizes+=("$triple:$bytes")
  printf 'size: %-32s %9d bytes stripped (%s MB)\n' "$triple" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e6 }')"
  # Headroom before the next step: the gap between the end of the code segment and the file
  # offset of the writable one.
  read -r -a loads <<<"$("$prefix-readelf" -lW "$root/target/$triple/mobile/libpermitseal_mobile.stripped.so" \
    | awk '$1 == "LOAD" { printf "%s %s ", $2, $5 }')"
  if (( ${#loads[@]} >= 4 )); then
    printf 'size: %-32s %9d bytes of headroom before the file grows by a page\n' "" \
      "$(( loads[2] - (loads[0] + loads[1]) ))"
  fi
done

arm64="${sizes[0]#*:}"
if (( arm64 > budget )); then
  echo "size: the arm64 library is $arm64 bytes, over the budget of $budget" >&2
  exit 1
fi
echo "size: arm64 within the budget of $budget bytes"
