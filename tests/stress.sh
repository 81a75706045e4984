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
load=${LOAD:-}
if [ -z "$load" ]; then
  if command -v stress-ng >/dev/null 2>&1; then load=stress-ng; else load=busy; fi
fi

load_pid=
stop_load() {
  if [ -n "$load_pid" ]; then
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=
  fi
}
# The load goes away however the run ends: success, failure, Ctrl-C.
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM

case $load in
stress-ng) stress-ng --cpu 1 --quiet & load_pid=$! ;;
busy) (while :; do :; done) & load_pid=$! ;;
none) ;;
*) echo "stress: LOAD must be stress-ng, busy or none, not '$load'" >&2; exit 2 ;;
esac

echo "stress: ctest -L '$labels' --repeat until-fail:$repeat -j $jobs, load: $load${load_pid:+ (pid $load_pid)}"
start=$(date +%s)
rc=0
ctest --test-dir "$build" --output-on-failure -L "$labels" --repeat "until-fail:$repeat" \
  -j "$jobs" || rc=$?
echo "stress: $(($(date +%s) - start)) s, load: $load, ctest exit code $rc"
exit $rc
