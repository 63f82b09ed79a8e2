#!/usr/bin/env bash
# Builds libpermitseal_mobile.so for the Android ABIs into the Gradle module's jniLibs and
# refreshes its generated Kotlin. Needs the Android NDK (ANDROID_NDK_HOME) and cargo-ndk:
#
#   cargo install cargo-ndk --version 4.1.0 --locked
#   rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#
# Then: mobile-bindings/scripts/build-android.sh   (the size-optimised `mobile` profile of the
# root Cargo.toml, without the desktop `rust-http` transport; cargo-ndk strips the
# libraries it copies)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here/.."
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the Android NDK}"
# Android's packed relocations (API 23+) shrink the relocation table from ~76 KB to a few KB.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,--pack-dyn-relocs=android"
cargo ndk --platform 24 \
  -t arm64-v8a -t armeabi-v7a -t x86_64 \
  -o "$here/android/src/main/jniLibs" \
  build --profile mobile -p permitseal-mobile --no-default-features
"$here/scripts/check-generated.sh" --write
ls -l "$here"/android/src/main/jniLibs/*/libpermitseal_mobile.so
