#!/bin/sh
# make demo: start `weir broker`, feed config/sample.txt, run the word count
# (config/wordcount.ini) against it, print the counts, then stop everything.
set -eu
WEIR=${1:-build/weir}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
broker_pid=""
run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null || true
  [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The mock broker has no Admin API: the internal topics are created with it.
"$WEIR" broker --partitions 3 --topic text-lines --topic word-counts \
  --topic wordcount-count-repartition --topic wordcount-word-counts-changelog \
  >"$work/broker.out" 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 1 50); do
  [ -s "$work/broker.out" ] && break
  sleep 0.1
done
addr=$(head -n 1 "$work/broker.out")
[ -n "$addr" ] || { echo "demo: the broker did not start:"; cat "$work/broker.log"; exit 1; }

echo "== input: config/sample.txt -> topic text-lines (broker $addr)"
sed 's/^/   /' config/sample.txt
"$WEIR" produce -b "$addr" -t text-lines <config/sample.txt 2>/dev/null

echo "== running config/wordcount.ini: lines -> words -> (repartition by word) -> count"
"$WEIR" run config/wordcount.ini --set "weir.bootstrap.servers=$addr" \
  --set "weir.plugin.dir=$(dirname "$WEIR")/plugins" --set "weir.state.dir=$work/state" \
  2>"$work/run.log" &
run_pid=$!

# Each commit emits the counts that changed; the last one per word is its count.
echo "== output: topic word-counts, the latest count of each word (most frequent first)"
"$WEIR" consume -b "$addr" -t word-counts --value-serde int64 --idle-ms 4000 \
  --timeout-ms 60000 2>/dev/null >"$work/counts.tsv"
awk -F '\t' '{ last[$1] = $2 } END { for (w in last) printf "%6d  %s\n", last[w], w }' \
  "$work/counts.tsv" | sort -k1,1nr -k2 | head -n 25
echo "   ($(wc -l <"$work/counts.tsv") count updates for $(cut -f1 "$work/counts.tsv" | sort -u | wc -l) words)"

kill -TERM "$run_pid"
if wait "$run_pid"; then
  echo "== weir run stopped cleanly on SIGTERM (drained, flushed, committed); its log:"
else
  echo "== weir run failed; its log:"
fi
run_pid=""
sed 's/^/   /' "$work/run.log"
