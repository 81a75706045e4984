#!/bin/sh
# make bench: every case on a real Kafka broker and on `weir broker`; writes
# tests/bench/RESULTS.md and copies it into the README between the markers.
#   run.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
bench="$build/tests/bench/weir-bench"
records=${WEIR_BENCH_RECORDS:-1000000}
runs=${WEIR_BENCH_RUNS:-3}
common="--weir $build/weir --plugin-dir $build/plugins --records $records --runs $runs"

jar="$root/tests/bench/kstreams/target/weir-kstreams-bench.jar"
if (cd tests/bench/kstreams && { mvn -q -o package >/dev/null 2>&1 || mvn -q package; }); then
  common="$common --kstreams-jar $jar"
else
  echo "weir-bench: the Kafka Streams peer did not build: its column is n/a" >&2
fi

version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' tests/kafka/pom.xml | head -n 1)
tests/kafka/kafka.sh fetch
mkdir -p "$work/kafka"
tests/kafka/kafka.sh run "$work/kafka" -- sh -c \
  "\"$bench\" --bootstrap \"\$WEIR_TEST_KAFKA_BOOTSTRAP\" $common \
     --label 'Apache Kafka $version (KRaft, one node, loopback)' --markdown $work/real.md"
# Kafka Streams cannot run there: it needs the Admin API, which the mock lacks.
# One rebalance run only: the mock's coordinator holds every rebalance of a
# non-empty group for session.timeout.ms - 1 s (44 s with weir's default).
"$bench" --embedded $(echo "$common" | sed 's/--kstreams-jar [^ ]*//') --rebalance-runs 1 \
  --label 'weir broker (librdkafka 2.0.2 mock cluster, in memory)' --markdown "$work/embedded.md"

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;"
  echo "each contender is its own process; throughput from its first output record to its"
  echo "last, peak RSS and CPU time from wait4(); lz4 and Java's murmur2 partitioner on every"
  echo "producer; runs interleave the contenders after one warm-up. The loop commits nothing, so"
  echo "it is the ceiling. Kafka Streams cannot run on \`weir broker\` (it needs the Admin API,"
  echo "which librdkafka's mock cluster lacks). Scale-out: the same passthrough with 2 threads in"
  echo "each contender, and on 64 and 256 partitions (on a half and a quarter of the records: every"
  echo "contender is slower there); the goals are weir / loop ratios. Then the time a busy group"
  echo "takes to let a second \`weir run\` in; on \`weir broker\` that waits out the mock"
  echo "coordinator's rebalance delay (session.timeout.ms - 1 s), so it runs once there."
  echo "\`make bench\` regenerates this."
  echo
  cat "$work/real.md"
  echo
  cat "$work/embedded.md"
} >tests/bench/RESULTS.md

# The README shows the same table between its bench markers.
awk -v results=tests/bench/RESULTS.md '
  /<!-- bench:start -->/ { print; while ((getline line < results) > 0) print line; skip = 1; next }
  /<!-- bench:end -->/ { skip = 0 }
  !skip { print }' README.md >"$work/README.md" && cp "$work/README.md" README.md
cat tests/bench/RESULTS.md
