#!/bin/sh
# make test's end-to-end stages, side by side: the suite on `weir broker`
# (each test starts its own broker process) and the suite on one real Kafka
# broker (tests/kafka/e2e-on-kafka.sh). Both wait far more than they compute,
# and nothing is shared between them: one after the other they took 260 s and
# 550 s of make test's 31 min on a 2-core AMD EPYC, side by side ~560 s.
# The `weir broker` stage's output is kept in a file and printed after the
# Kafka stage's, so the two never interleave. Exits non-zero if either failed.
#   both-brokers.sh BUILD_DIR KAFKA_DIR
set -u
build=$1
kafka_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
log="$build/e2e-weir-broker.log"

ctest --test-dir "$build" --output-on-failure -L e2e >"$log" 2>&1 &
mock_pid=$!
# The Kafka stage's failure is the wait's too: the background stage is never
# left running past this script.
sh "$here/../kafka/e2e-on-kafka.sh" "$kafka_dir" \
  ctest --test-dir "$build" --output-on-failure -L e2e
kafka_rc=$?
wait "$mock_pid"
mock_rc=$?

echo "######## end-to-end tests on \`weir broker\` (run beside the Kafka stage; log: $log)"
cat "$log"
echo "######## end-to-end: on \`weir broker\` exit $mock_rc, on Kafka exit $kafka_rc"
[ "$mock_rc" -eq 0 ] && [ "$kafka_rc" -eq 0 ]
