#!/usr/bin/env bash
# Builds the static library for iOS devices and simulators and packs it with the generated
# C header into swift/PermitSealFFI.xcframework, which swift/Package.swift uses. Runs on
# macOS with Xcode:
#
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
#   mobile-bindings/scripts/build-ios.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
[[ "$(uname)" == Darwin ]] || { echo "build-ios.sh needs macOS and Xcode"; exit 1; }

for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  # Without the desktop `rust-http` transport: the app gives URLSessionTransport.
  cargo build --profile mobile -p permitseal-mobile --no-default-features --target "$t"
done
sim="$root/target/ios-sim/libpermitseal_mobile.a"
mkdir -p "$(dirname "$sim")"
lipo -create \
  "$root/target/aarch64-apple-ios-sim/mobile/libpermitseal_mobile.a" \
  "$root/target/x86_64-apple-ios/mobile/libpermitseal_mobile.a" \
  -output "$sim"

# The header and module map are the committed ones (checked against the API by
# check-generated.sh), so the Swift sources and the library always agree.
out="$here/swift/PermitSealFFI.xcframework"
rm -rf "$out"
xcodebuild -create-xcframework \
  -library "$root/target/aarch64-apple-ios/mobile/libpermitseal_mobile.a" -headers "$here/swift/include" \
  -library "$sim" -headers "$here/swift/include" \
  -output "$out"
echo "built $out"
