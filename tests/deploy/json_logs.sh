#!/bin/sh
# usage: json_logs.sh WEIR INI PLUGIN_DIR PYTHON CHECKER
# Runs INI with log.format = json on a `weir broker`, sends one record
# through its std log operator, stops it with SIGINT, then has CHECKER
# parse every stderr line as JSON. Waits on events, never on fixed sleeps.
set -u
weir=$1 ini=$2 plugins=$3 python=$4 checker=$5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-json-logs.XXXXXX")
broker_pid="" run_pid=""
cleanup() {
  [ -n "$run_pid" ] && { kill "$run_pid" 2>/dev/null; wait "$run_pid" 2>/dev/null; }
  [ -n "$broker_pid" ] && { kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for FILE REGEX WHAT: up to 60 s for a line of FILE to match.
wait_for() {
  i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 600 ] || { echo "no $3 within 60 s; $1:"; cat "$1"; exit 1; }
    sleep 0.1
  done
}

"$weir" broker --topic in --topic out >"$tmp/addr" 2>"$tmp/broker.log" &
broker_pid=$!
wait_for "$tmp/addr" ':[0-9]' "broker address"
addr=$(head -n 1 "$tmp/addr")

cd "$tmp" || exit 1
"$weir" run "$ini" --set weir.bootstrap.servers="$addr" --set weir.plugin.dir="$plugins" \
  2>"$tmp/run.log" &
run_pid=$!
wait_for "$tmp/run.log" 'gained tasks' "rebalance"
printf 'k1\thello json\n' | "$weir" produce -b "$addr" -t in --key-separator "$(printf '\t')" \
  || { echo "produce failed"; exit 1; }
wait_for "$tmp/run.log" 'hello json' "operator log line"
kill -INT "$run_pid"
wait "$run_pid"
rc=$?
run_pid=""
[ $rc -eq 0 ] || { echo "weir run exited $rc"; cat "$tmp/run.log"; exit 1; }
"$python" "$checker" "$tmp/run.log"
