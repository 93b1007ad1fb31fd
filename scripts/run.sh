#!/usr/bin/env bash
# The main job: install what is missing, build, and run the conformance suite against the
# reference loop and every other backend this build has, writing results under out/ and one
# merged report of every backend's results into out/report/ (index.html, junit.xml, summary.md).
# usage: scripts/run.sh [extra `loopspec run` options...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh || exit 1
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release || exit 1

status=0
results=()
for backend in $(build/conformance/loopspec backends --names); do
  echo
  echo "== loopspec run --backend $backend --out out/$backend --traces"
  rm -f "out/$backend/results.json"  # a run that cannot start must not leave an old result in the report
  # --traces: every run's whole trace beside results.json, so the report's diff can align the
  # traces of scenarios that pass on both backends too.
  build/conformance/loopspec run --backend "$backend" --out "out/$backend" --traces "$@" || status=1
  [ -f "out/$backend/results.json" ] && results+=("out/$backend/results.json")
done
echo
echo "results: ${results[*]}"
if [ ${#results[@]} -gt 0 ]; then
  echo "== loopspec report ${results[*]} --out out/report"
  build/conformance/loopspec report "${results[@]}" --out out/report || status=1
fi
exit $status
