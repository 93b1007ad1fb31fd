#!/usr/bin/env bash
# Builds and runs every test: the plain build, then the harness, kit, reference, libuv, Asio,
# reliability, remote-backend, conformance and fuzz suites under AddressSanitizer + UndefinedBehaviorSanitizer,
# then each fuzz target for a fixed time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
jobs=${LOOPSPEC_JOBS:-$(nproc)}
started=$SECONDS
phase() { echo "== $1 (at $((SECONDS - started)) s)"; }

# The test trees are built -O1 with assertions on: a third less compile time than Release's -O3,
# and every assert in the code is checked while the tests run.
phase "plain build"
# install-deps.sh installed libuv and Boost: asking for their backends by name makes a missing one
# an error here, where the default (built when found) would quietly test less.
scripts/build.sh build -DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON -DCMAKE_BUILD_TYPE=Test -DCMAKE_CXX_FLAGS_TEST=-O1 -DCMAKE_C_FLAGS_TEST=-O1
phase "tests (plain build)"
ctest --test-dir build --output-on-failure -j "$jobs"

# -g1: sanitizer reports keep file:line at a fraction of -g's cost. clang 14 builds this tree in two
# thirds of g++'s time (504 s against 752 s here) and checks the code with a second compiler.
# LOOPSPEC_FUZZ: the fuzz targets link libFuzzer and the libraries they fuzz get coverage
# instrumentation, so this one tree builds those libraries once for the tests and the fuzzers.
sanitized=(harness_tests kit_tests reference_tests libuv_tests asio_tests reliability_tests remote_tests conformance_tests
  fuzz_tests)
fuzz_targets=(split_invariance parsers stateful_transport)
phase "ASan + UBSan build, clang 14 (${sanitized[*]} ${fuzz_targets[*]/%/_fuzzer})"
scripts/build.sh build-asan -DLOOPSPEC_WITH_LIBUV=ON -DLOOPSPEC_WITH_ASIO=ON -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Sanitize -DLOOPSPEC_SANITIZE=ON -DLOOPSPEC_FUZZ=ON \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DCMAKE_C_FLAGS_SANITIZE="-O1 -g1" -- "${sanitized[@]}" \
  "${fuzz_targets[@]/%/_fuzzer}"
phase "tests (ASan + UBSan)"
# "fuzz": every fuzz target over its seeds and its crash regressions.
# FaultKill (a third of this phase's time) is left to the plain build: it checks that the suite's
# verdicts catch each deliberate deviation, which no sanitizer changes, and the code it runs beyond
# the conformance runs checked here is the deviations themselves.
label_regex=$(IFS='|'; echo "^(${sanitized[*]}|fuzz)\$")
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L "$label_regex" -E '/FaultKill\.'
# Each fuzz target for a fixed time from a copy of its seeds (the fuzzer adds to its corpus
# directory), with its dictionary and options; any finding fails the test command.
fuzz_seconds=${LOOPSPEC_FUZZ_SECONDS:-25}
for target in "${fuzz_targets[@]}"; do
  phase "fuzz smoke: ${target}_fuzzer for ${fuzz_seconds} s"
  corpus=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$corpus"/
  options=$(awk -F' *= *' '/^[a-z_]+ *=/ {printf " -%s=%s", $1, $2}' fuzz/"${target}"_fuzzer.options)
  dict=()
  [ -f fuzz/"${target}"_fuzzer.dict ] && dict=(-dict=fuzz/"${target}"_fuzzer.dict)
  # shellcheck disable=SC2086  # options holds one flag per word
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    build-asan/fuzz/"${target}"_fuzzer $options "${dict[@]}" -max_total_time="$fuzz_seconds" \
    -print_final_stats=1 -artifact_prefix="$corpus/" "$corpus" 2>&1 | tail -n 14 \
    || { echo "fuzz smoke: ${target}_fuzzer found a crash; the input is in $corpus" >&2; exit 1; }
  rm -rf "$corpus"
done
phase "done"
