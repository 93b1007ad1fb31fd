#!/usr/bin/env bash
# Runs the harness and reference test suites under valgrind memcheck: any invalid read or write,
# use of uninitialised memory or definite leak fails it. Builds them in build/ as scripts/test.sh
# does. Left out: the checker's speed test (memcheck runs code about 20 times slower), and two
# tests valgrind 3.19 cannot host: it lacks pidfd_open (ENOSYS; the loop falls back to SIGCHLD,
# but the test that asks for a pidfd fails) and runs posix_spawn's vfork as a fork, so a missing
# program's exec error no longer reaches the parent.
# Not part of scripts/test.sh (about 10 minutes); docs/reliability.md records its last result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
command -v valgrind >/dev/null || { echo "valgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
scripts/build.sh build -DCMAKE_BUILD_TYPE=Test -DCMAKE_CXX_FLAGS_TEST=-O1 -DCMAKE_C_FLAGS_TEST=-O1 \
  -- harness_tests reference_tests
status=0
for suite in harness/harness_tests reference/reference_tests; do
  echo "== valgrind memcheck: $suite"
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q \
    "build/$suite" --gtest_filter='-CheckerSpeed.*:Subprocess.MissingProgram:*ChildExitWatchMechanisms.*/Pidfd' || status=1
done
exit $status
