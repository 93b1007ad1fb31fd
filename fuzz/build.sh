#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script: builds every fuzz target with the
# environment's compilers, flags and fuzzing engine and puts the targets,
# their seed corpora (<target>_seed_corpus.zip), dictionaries and options in $OUT.
# Needs: $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT (OSS-Fuzz conventions);
# $SRC/loopspec is this repository (or run from anywhere inside it).
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WORK:-/tmp}/loopspec-fuzz-build
targets=(split_invariance parsers stateful_transport)

# The runner image has none of the libraries the build finds with cmake
# (yaml-cpp, fmt, OpenSSL): they travel in $OUT/lib, found through the rpath.
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_BUILD_RPATH='$ORIGIN/lib' \
  -DLOOPSPEC_BUILD_TESTS=OFF -DLOOPSPEC_WITH_PYTHON=OFF -DLOOPSPEC_WITH_LIBUV=OFF \
  -DLOOPSPEC_FUZZ=ON -DLOOPSPEC_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
ninja -C "$build" "${targets[@]/%/_fuzzer}"

mkdir -p "$OUT/lib"
for target in "${targets[@]}"; do
  fuzzer=${target}_fuzzer
  cp "$build/fuzz/$fuzzer" "$OUT/"
  ldd "$build/fuzz/$fuzzer" | awk '/yaml-cpp|libfmt|libssl|libcrypto/ {print $3}' | xargs -r cp -L -t "$OUT/lib/"
  rm -f "$OUT/${fuzzer}_seed_corpus.zip"
  (cd "$root/fuzz/corpus/$target" && zip -q -j "$OUT/${fuzzer}_seed_corpus.zip" ./*)
  cp "$root/fuzz/$fuzzer.options" "$OUT/"
  if [ -f "$root/fuzz/$fuzzer.dict" ]; then cp "$root/fuzz/$fuzzer.dict" "$OUT/"; fi
done
