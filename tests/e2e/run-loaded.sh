#!/usr/bin/env bash
# The end-to-end tests under load: the e2e label under
# `ctest --repeat until-fail:N` while one core is kept busy (stress-ng
# --cpu 1, or a shell busy loop where stress-ng is missing), first on
# `weir broker`, then on a real Kafka broker (tests/kafka/e2e-on-kafka.sh).
# The load is stopped however the script ends (trap). Prints each stage's
# time; exits non-zero at the first stage that fails.
#
#   tests/e2e/run-loaded.sh [BUILD_DIR [N [STAGES]]]
#     BUILD_DIR  a configured and built tree (default: build)
#     N          runs of each test, stopping at its first failure (default: 10)
#     STAGES     "weir kafka" (default), "weir" or "kafka"
# Environment: WEIR_TEST_KEEP_LOGS=1 keeps a failing test's directory.
set -euo pipefail

build=${1:-build}
n=${2:-10}
stages=${3:-"weir kafka"}
root=$(cd "$(dirname "$0")/../.." && pwd)
kafka_dir="${TMPDIR:-/tmp}/weir-loaded-kafka-$$"

. "$root/tests/load.sh"
load_start "" run-loaded
if [ "$load_mode" = stress-ng ]; then
  echo "run-loaded: one core busy with stress-ng --cpu 1 (pid $load_pid)"
else
  echo "run-loaded: one core busy with a shell loop (pid $load_pid; no stress-ng)"
fi

ctest_e2e=(ctest --test-dir "$build" --output-on-failure -L e2e --repeat "until-fail:$n")
for stage in $stages; do
  start=$(date +%s)
  case $stage in
    weir) "${ctest_e2e[@]}" ;;
    kafka)
      sh "$root/tests/kafka/e2e-on-kafka.sh" "$kafka_dir" "${ctest_e2e[@]}"
      rm -rf "$kafka_dir" ;;
    *) echo "run-loaded: unknown stage '$stage' (weir or kafka)" >&2; exit 2 ;;
  esac
  echo "run-loaded: stage $stage: e2e label passed, until-fail:$n, under load, in $(($(date +%s) - start)) s"
done
