#!/usr/bin/env bash
# Builds the harness, kit and in-process loop test suites with ThreadSanitizer (clang 14) in
# build-tsan/ and runs them. call_soon_threadsafe is the one method another thread may call:
# the loops' *CallSoonThreadsafe* tests drive it from several threads while the loop runs.
# Not part of scripts/test.sh (a third build tree would push it past its time budget);
# docs/reliability.md records its last result.
# usage: scripts/tsan.sh [ctest options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
jobs=${LOOPSPEC_JOBS:-$(nproc)}
suites=(harness_tests kit_tests reference_tests libuv_tests asio_tests)
scripts/build.sh build-tsan -DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Tsan \
  -DCMAKE_CXX_FLAGS_TSAN="-O1 -g1 -fsanitize=thread" -DCMAKE_C_FLAGS_TSAN="-O1 -g1 -fsanitize=thread" \
  -DCMAKE_EXE_LINKER_FLAGS_TSAN=-fsanitize=thread -- "${suites[@]}"
label_regex=$(IFS='|'; echo "^(${suites[*]})\$")
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L "$label_regex" "$@"
