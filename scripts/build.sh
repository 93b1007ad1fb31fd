#!/usr/bin/env bash
# Configures and builds one build tree. usage: scripts/build.sh DIR [cmake options...]
set -euo pipefail
dir=${1:?usage: scripts/build.sh DIR [cmake options]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${LOOPSPEC_JOBS:-$(nproc)}
echo "build: $dir ($*)"
cmake -S "$root" -B "$root/$dir" -G Ninja "$@" >"$root/$dir.configure.log" 2>&1 \
  || { cat "$root/$dir.configure.log"; exit 1; }
ninja -C "$root/$dir" -j "$jobs"
