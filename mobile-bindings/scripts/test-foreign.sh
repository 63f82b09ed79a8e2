#!/usr/bin/env bash
# Foreign-language checks of the bindings, on the host:
#   1. the committed Swift/Kotlin sources are what the Rust API generates; the C header parses;
#   2. Kotlin tests compiled with a real kotlinc and run on the JVM through JNA;
#   3. Python tests over the generated Python module;
#   4. Rust, Kotlin and Python give the same verdict and reasons on every shared vector;
#   5. the sync client against the real server through the Kotlin transport the SDK ships
#      for Android (HttpURLConnection, on the JVM) and through a Python one (http.client),
#      killed mid-upload included (tests/foreign_sync.rs starts the server and checks it).
# Installs what is missing: kotlin-compiler (npm, into ./node_modules at the repository root),
# libjna-java (apt). Exits non-zero when anything fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
KOTLIN_VERSION=2.4.20
start=$SECONDS

# --- tools ---------------------------------------------------------------------------------
kotlinc="$root/node_modules/kotlin-compiler/bin/kotlinc"
if [[ ! -x "$kotlinc" ]]; then
  echo "installing kotlin-compiler@$KOTLIN_VERSION (npm)"
  npm install --no-save --no-audit --no-fund --prefix "$root" "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
fi
jna=/usr/share/java/jna.jar
if [[ ! -f "$jna" ]]; then
  echo "installing libjna-java (apt)"
  (apt-get install -y -q libjna-java >/dev/null 2>&1) || { apt-get update -q >/dev/null && apt-get install -y -q libjna-java >/dev/null; }
fi
command -v java >/dev/null || { echo "java is required"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }

# --- generate and check --------------------------------------------------------------------
"$here/scripts/check-generated.sh"
gen="$root/target/bindings-check"          # written by check-generated.sh
lib="$root/target/debug/libpermitseal_mobile.so"
work="$root/target/foreign-tests"
rm -rf "$work" && mkdir -p "$work/scratch"
vectors="$root/test-vectors/v1/vectors.json:$root/test-vectors/v1/vectors-2.json:$root/test-vectors/v1/vectors-3.json:$root/test-vectors/v1/vectors-4.json:$root/test-vectors/v1/vectors-5.json:$root/test-vectors/v1/vectors-6.json"
device_vectors="$root/test-vectors/v1/device-reports.json"

# --- Kotlin --------------------------------------------------------------------------------
klib="$root/node_modules/kotlin-compiler/lib"
echo "kotlin: compiling"
"$kotlinc" -nowarn -cp "$jna:$klib/kotlinx-coroutines-core-jvm.jar" \
  "$gen/kotlin/org/permitseal/mobile/permitseal_mobile.kt" \
  "$here/android/src/main/kotlin/org/permitseal/mobile/HttpUrlConnectionTransport.kt" \
  "$here/android/src/main/kotlin/org/permitseal/mobile/SoftwareDeviceSigner.kt" \
  "$here/foreign-tests/kotlin/Checks.kt" "$here/foreign-tests/kotlin/SdkTest.kt" \
  "$here/foreign-tests/kotlin/SyncTest.kt" \
  -d "$work/kotlin.jar" 2> >(grep -v '^warning:' >&2)
echo "kotlin: running"
kotlin_cp="$work/kotlin.jar:$jna:$klib/kotlin-stdlib.jar:$klib/kotlinx-coroutines-core-jvm.jar"
java -Djna.library.path="$(dirname "$lib")" -cp "$kotlin_cp" \
  SdkTestKt "$vectors" "$work/scratch" "$work/kotlin-verdicts.txt" "$device_vectors" | tee "$work/kotlin.out"
kotlin_passed=$(sed -n 's/^kotlin: \([0-9]*\) passed, 0 failed$/\1/p' "$work/kotlin.out")

# --- Python --------------------------------------------------------------------------------
echo "python: running"
mkdir -p "$work/python"
cp "$gen/python/permitseal_mobile.py" "$lib" "$work/python/"
PYTHONPATH="$here/foreign-tests/python" PERMITSEAL_BINDINGS="$work/python" PERMITSEAL_VECTORS="$vectors" \
  PERMITSEAL_DEVICE_VECTORS="$device_vectors" \
  PERMITSEAL_VERDICTS_OUT="$work/python-verdicts.txt" \
  python3 "$here/foreign-tests/python/test_sdk.py" 2>&1 | tee "$work/python.out"
python_passed=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$work/python.out")
grep -qx OK "$work/python.out"

# --- agreement -----------------------------------------------------------------------------
# The Rust test of the same vectors through the SDK's Rust API writes the same listing (same
# cargo invocation shape as `cargo test --workspace`, so nothing is rebuilt).
PERMITSEAL_VERDICTS_OUT="$work/rust-verdicts.txt" \
  cargo test --workspace --locked --quiet --test verifier every_v1_vector_through_the_sdk >/dev/null
n=$(wc -l < "$work/rust-verdicts.txt")
for lang in kotlin python; do
  if ! diff -u "$work/rust-verdicts.txt" "$work/$lang-verdicts.txt"; then
    echo "$lang disagrees with Rust"; exit 1
  fi
done
echo "Rust, Kotlin and Python agree on all $n vectors (each also matched the expected verdicts and reasons)"

# --- sync through the foreign transports, against the real server --------------------------
echo "sync: Kotlin (HttpUrlConnectionTransport) and Python (http.client) transports"
PERMITSEAL_FOREIGN_SYNC="kotlin=java -Djna.library.path=$(dirname "$lib") -cp $kotlin_cp SyncTestKt
python=env PERMITSEAL_BINDINGS=$work/python python3 $here/foreign-tests/python/test_sync.py" \
  cargo test --workspace --locked --quiet --test foreign_sync -- --ignored --nocapture \
  | tee "$work/sync.out"
grep -q '^test result: ok. 1 passed' "$work/sync.out"
echo "foreign tests took $((SECONDS - start)) s"
echo "foreign: $((kotlin_passed + python_passed + 2)) passed, 0 failed"
