#!/usr/bin/env bash
# Builds and runs every test: the plain build, then harness, reference and conformance
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
jobs=${LOOPSPEC_JOBS:-$(nproc)}

scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
echo "== tests (plain build)"
ctest --test-dir build --output-on-failure -j "$jobs"

scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOPSPEC_SANITIZE=ON
echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"
