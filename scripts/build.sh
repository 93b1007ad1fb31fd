#!/usr/bin/env bash
# Configures and builds one build tree (every target, or only the ones named after --).
# usage: scripts/build.sh DIR [cmake options...] [-- targets...]
set -euo pipefail
dir=${1:?usage: scripts/build.sh DIR [cmake options...] [-- targets...]}
shift
options=()
while [[ $# -gt 0 && $1 != -- ]]; do options+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${LOOPSPEC_JOBS:-$(nproc)}
echo "build: $dir (${options[*]}) ${*:-all targets}"
cmake -S "$root" -B "$root/$dir" -G Ninja "${options[@]}" >"$root/$dir.configure.log" 2>&1 \
  || { cat "$root/$dir.configure.log"; exit 1; }
ninja -C "$root/$dir" -j "$jobs" "$@"
