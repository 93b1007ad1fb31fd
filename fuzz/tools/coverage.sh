#!/usr/bin/env bash
# Line coverage (llvm-cov) of the code a fuzz target is aimed at, over a corpus.
# usage: fuzz/tools/coverage.sh BUILD_DIR TARGET CORPUS_DIR...
# BUILD_DIR is a clang tree built with -fprofile-instr-generate -fcoverage-mapping and
# without LOOPSPEC_FUZZ (the targets link replay_main.cpp), e.g.
#   scripts/build.sh build-fuzz-cov -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
#     -DCMAKE_BUILD_TYPE=Coverage -DCMAKE_CXX_FLAGS_COVERAGE="-O0 -fprofile-instr-generate -fcoverage-mapping" \
#     -DCMAKE_C_FLAGS_COVERAGE="-O0 -fprofile-instr-generate -fcoverage-mapping" \
#     -DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate -DLOOPSPEC_BUILD_TESTS=OFF -- TARGET_fuzzer
set -euo pipefail
build=${1:?usage: coverage.sh BUILD_DIR TARGET CORPUS_DIR...}
target=${2:?usage: coverage.sh BUILD_DIR TARGET CORPUS_DIR...}
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
llvm_version=${LLVM_VERSION:-14}

case "$target" in
  split_invariance)
    sources=(fuzz/split/src/*.cpp fuzz/protocols/src/*.cpp backends/remote/src/wire.cpp) ;;
  parsers)
    sources=(harness/src/rules.cpp harness/src/trace.cpp conformance/src/results.cpp
             backends/remote/src/channel.cpp backends/remote/src/wire.cpp) ;;
  stateful_transport)
    sources=(reference/src/stream_transport.cpp reference/src/stream_reading_transport.cpp
             reference/src/stream_writing.cpp reference/src/descriptor_transport.cpp
             kit/src/write_flow.cpp kit/src/write_queue.cpp) ;;
  *) echo "coverage.sh: unknown target $target" >&2; exit 2 ;;
esac

profiles=$(mktemp -d)
trap 'rm -rf "$profiles"' EXIT
# One profile per process (%p); the replay main runs the whole corpus in one.
LLVM_PROFILE_FILE="$profiles/%p.profraw" "$build/fuzz/${target}_fuzzer" "$@" 2>/dev/null
"llvm-profdata-$llvm_version" merge -sparse "$profiles"/*.profraw -o "$profiles/merged.profdata"
cd "$root"
"llvm-cov-$llvm_version" report "$build/fuzz/${target}_fuzzer" -instr-profile="$profiles/merged.profdata" \
  "${sources[@]}"
