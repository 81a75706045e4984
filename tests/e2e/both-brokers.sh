#!/bin/sh
# make test's end-to-end stages, side by side, as three jobs:
#   1. every end-to-end test on `weir broker` (each test starts its own);
#   2. on a real Kafka broker of their own, the tests that stop, restart or
#      freeze their broker (label e2e_broker_fault), one at a time;
#   3. on another real Kafka broker, the rest, SHARED_JOBS (2) at once, with
#      WEIR_TEST_KAFKA_SHARED=1: a test there that would stop or freeze the
#      broker fails and names the label it needs (e2e.h, e2e_broker_shared).
# Names carry each test's pid, so tests on one broker never meet. They wait
# far more than they compute (the suite on `weir broker` and on one Kafka
# broker, side by side, took 132 s of CPU in 574 s on 2 cores; as these three
# jobs, 290 s, 341 s and 169 s). Each job's output is kept in a file and
# printed when all are done, so they never interleave. Exits non-zero if any
# job failed; WEIR_TEST_KAFKA=skip skips jobs 2 and 3, loudly.
#   both-brokers.sh BUILD_DIR KAFKA_DIR
set -u
build=$1
kafka_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
on_kafka="$here/../kafka/e2e-on-kafka.sh"
shared_jobs=${SHARED_JOBS:-2}
logs="$build/e2e-logs"
rm -rf "$logs"
mkdir -p "$logs"

# Fetched once here: the two Kafka jobs would otherwise both fetch.
if [ "${WEIR_TEST_KAFKA:-}" != skip ]; then
  "$here/../kafka/kafka.sh" fetch || exit 1
fi

echo "weir: end-to-end tests, three jobs side by side (logs in $logs, printed when all end)"
ctest --test-dir "$build" --output-on-failure -L e2e >"$logs/weir-broker.log" 2>&1 &
mock_pid=$!
sh "$on_kafka" "$kafka_dir/faults" \
  ctest --test-dir "$build" --output-on-failure -L e2e_broker_fault >"$logs/kafka-faults.log" 2>&1 &
faults_pid=$!
WEIR_TEST_KAFKA_SHARED=1 sh "$on_kafka" "$kafka_dir/shared" \
  ctest --test-dir "$build" --output-on-failure -j "$shared_jobs" -L e2e -LE e2e_broker_fault \
  >"$logs/kafka-shared.log" 2>&1 &
shared_pid=$!

wait "$mock_pid"
mock_rc=$?
wait "$faults_pid"
faults_rc=$?
wait "$shared_pid"
shared_rc=$?

for job in weir-broker kafka-faults kafka-shared; do
  echo "######## end-to-end: $job ($logs/$job.log)"
  cat "$logs/$job.log"
done
echo "######## end-to-end: on \`weir broker\` exit $mock_rc; on Kafka, the broker's faults exit $faults_rc, the rest exit $shared_rc"
[ "$mock_rc" -eq 0 ] && [ "$faults_rc" -eq 0 ] && [ "$shared_rc" -eq 0 ]
