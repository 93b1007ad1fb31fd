#!/usr/bin/env bash
# The main job: install what is missing, build, and run the conformance suite against the
# reference loop and every other backend this build has, writing results under out/.
# usage: scripts/run.sh [extra `loopspec run` options...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh || exit 1
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release || exit 1

status=0
for backend in $(build/conformance/loopspec backends --names); do
  echo
  echo "== loopspec run --backend $backend --out out/$backend"
  build/conformance/loopspec run --backend "$backend" --out "out/$backend" "$@" || status=1
done
echo
echo "results: $(ls out/*/results.json | tr '\n' ' ')"
exit $status
