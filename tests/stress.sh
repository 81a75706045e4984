#!/bin/sh
# Hunt for tests that depend on the machine's speed: run the chosen CTest
# labels again and again (until one fails) while one core is kept busy, as
# a slower or shared machine would be. Not part of `make test`.
#
#   tests/stress.sh [BUILD_DIR]        (default: build)
#   LABELS  CTest label regex          (default: integration|e2e)
#   REPEAT  runs of each test          (default: 10; ctest --repeat until-fail)
#   JOBS    tests run at once          (default: 2)
#   LOAD    stress-ng | busy | none    (default: stress-ng when installed,
#           else a shell busy loop; none gives the same run without load)
set -eu
build=${1:-build}
labels=${LABELS:-integration|e2e}
repeat=${REPEAT:-10}
jobs=${JOBS:-2}
. "$(dirname "$0")/load.sh"
load_start "${LOAD:-}" stress || exit 2

echo "stress: ctest -L '$labels' --repeat until-fail:$repeat -j $jobs, load: $load_mode${load_pid:+ (pid $load_pid)}"
start=$(date +%s)
rc=0
ctest --test-dir "$build" --output-on-failure -L "$labels" --repeat "until-fail:$repeat" \
  -j "$jobs" || rc=$?
echo "stress: $(($(date +%s) - start)) s, load: $load_mode, ctest exit code $rc"
exit $rc
