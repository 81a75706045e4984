#!/bin/sh
# make bench: every case on a real Kafka broker and on `weir broker`; writes
# tests/bench/RESULTS.md and copies it into the README between the markers.
#   run.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$(mktemp -d)
# The broker's log dirs go to memory when /dev/shm has room (WEIR_BENCH_SHM_GB,
# default 12 GiB; a whole make bench peaked at 7.1 GiB there, 2026-12-06): on
# disk, the kernel writes back its dirty pages 30 s after they were written,
# and the broker's request handlers then stall on index and log pages under
# writeback (seen in jstack: OffsetIndex.append), halving every contender's
# rate at a moment that falls on some runs and not others. The bench measures
# the clients, not the disk (README: Why the long runs paused).
kafka_dir="$work/kafka" kafka_where="on disk"
shm_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
if [ "${shm_kib:-0}" -ge $((${WEIR_BENCH_SHM_GB:-12} * 1024 * 1024)) ]; then
  kafka_dir=$(mktemp -d -p /dev/shm weir-bench-kafka.XXXXXX) kafka_where="log dirs in memory (tmpfs)"
fi
trap 'rm -rf "$work" "$kafka_dir"' EXIT INT TERM
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

# The windowed count's peer: tests/kstreams (the app the window differential
# test holds weir to), built into the bench's build directory.
if WEIR_KSTREAMS_OUT="$build/kstreams" tests/kstreams/kstreams.sh build; then
  export WEIR_KSTREAMS_OUT="$build/kstreams"
  common="$common --kstreams-windows $root/tests/kstreams/kstreams.sh"
else
  echo "weir-bench: tests/kstreams did not build: the windowed Kafka Streams column is n/a" >&2
fi

version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' tests/kafka/pom.xml | head -n 1)
tests/kafka/kafka.sh fetch
mkdir -p "$kafka_dir"
tests/kafka/kafka.sh run "$kafka_dir" -- sh -c \
  "\"$bench\" --bootstrap \"\$WEIR_TEST_KAFKA_BOOTSTRAP\" $common \
     --label 'Apache Kafka $version (KRaft, one node, loopback, $kafka_where)' --markdown $work/real.md"
# Kafka Streams cannot run there: it needs the Admin API, which the mock lacks.
# One rebalance run only: the mock's coordinator holds every rebalance of a
# non-empty group for session.timeout.ms - 1 s (44 s with weir's default).
# No restore case: its changelog, repartition and output topics of a million
# records each would pass the mock's 5 MiB a partition, which drops the oldest.
"$bench" --embedded $(echo "$common" | sed 's/--kstreams-jar [^ ]*//; s/--kstreams-windows [^ ]*//') \
  --rebalance-runs 1 \
  --case passthrough,wordcount,rebalance \
  --label 'weir broker (librdkafka 2.0.2 mock cluster, in memory)' --markdown "$work/embedded.md"

{
  echo "Measured $(date -u +%Y-%m-%d), Kafka $version; each broker's tables open with a line"
  echo "naming the machine (CPU model, nproc, memory, kernel), librdkafka and the load. Every"
  echo "figure is the median of the runs and, in brackets, the slowest and fastest run (rates,"
  echo "CPU per record, peak RSS), so a change can be told from noise; a ratio of weir to another"
  echo "contender, and a goal on rate or CPU, is the median of the runs' own ratios (weir's run k"
  echo "against the other's run k, which ran just before or after it); Kafka Streams runs at the"
  echo "heap named beside it in the cost table (the smallest that keeps its throughput);"
  echo "each contender is its own process; throughput from its first output record to its"
  echo "last, CPU time from wait4() and peak RSS from the process's VmHWM; lz4 and Java's murmur2 partitioner on every"
  echo "producer; runs interleave the contenders after one warm-up; on the real broker a"
  echo "case's topics are deleted when it ends, so that each case meets a broker holding only its"
  echo "inputs (\`weir broker\` starts afresh for each partition count). The loop commits nothing, so"
  echo "it is the ceiling; it wakes its fetchers as weir does (librdkafka 2.0.2 otherwise waits up"
  echo "to a second each time its queue fills; WEIR_BENCH_LOOP_WAKE=0 turns that off), and keeps a"
  echo "200,000-record queue. Kafka Streams cannot run on \`weir broker\` (it needs the Admin API,"
  echo "which librdkafka's mock cluster lacks). Scale-out: the same passthrough with 2 threads in"
  echo "each contender, and on 64 and 256 partitions (on four times the records on the real broker, so"
  echo "that a run lasts seconds and a pause of the broker does not decide it); the goals are weir / loop ratios. Word count: records of"
  echo "one word each (five times the other cases' records on the real broker: the counts come"
  echo "out at 1 s commits, so a shorter run is timed to within one), of 10,000 distinct words"
  echo "with NULL keys, counted by word (through a"
  echo "repartition topic) into a store with one thread and a 1 s commit interval, against Kafka"
  echo "Streams' own word count (RocksDB, the default cache), the loop forwarding the same"
  echo "input, and the two-hop loop (the same records through the same topics, counted in memory:"
  echo "the word count's ceiling); a count is done when the latest counts in its output add up to the input, and is"
  echo "timed from its first record in its repartition topic (its first count waits for a commit)."
  echo "Window: a tumbling 60 s count with final results only (emit = final; Kafka Streams'"
  echo "EmitStrategy.onWindowClose, its emission checked at every record) of records of 10,000 keys"
  echo "whose event time spans ten windows, then one record a partition that closes them all, by"
  echo "tests/kstreams' app (the one tests/e2e/test_window_kstreams.c holds weir to), timed from its"
  echo "first output record (the first window's close, a tenth into the input) to the output's counts"
  echo "adding up to the input, over the nine tenths of the records in between."
  echo "Restore:"
  echo "weir again on a finished run's application.id with an empty state.dir, timed from weir's"
  echo "\`restore:\` log lines; the restore case counts every record as a distinct word so"
  echo "that its changelog holds as many records (real broker only). Then the time a busy group"
  echo "takes to let a second \`weir run\` in; on \`weir broker\` that waits out the mock"
  echo "coordinator's rebalance delay (session.timeout.ms - 1 s), so it runs once there."
  echo "Last, hot reload on the real broker: swaps under a full-speed backlog (its own table)."
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
