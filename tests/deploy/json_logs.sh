#!/bin/sh
# usage: json_logs.sh WEIR INI PLUGIN_DIR PYTHON CHECKER
# Runs INI with log.format = json on a `weir broker`, sends one record
# through its std log operator, stops it with SIGINT, then has CHECKER
# parse every stderr line as JSON. Waits on events, never on fixed sleeps.
set -u
. "$(dirname "$0")/../support/wait.sh"
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


"$weir" broker --topic in --topic out >"$tmp/addr" 2>"$tmp/broker.log" &
broker_pid=$!
addr=$(broker_address "$tmp/addr")

cd "$tmp" || exit 1
"$weir" run "$ini" --set weir.bootstrap.servers="$addr" --set weir.plugin.dir="$plugins" \
  2>"$tmp/run.log" &
run_pid=$!
wait_for_line "$tmp/run.log" 'gained tasks'
printf 'k1\thello json\n' | "$weir" produce -b "$addr" -t in --key-separator "$(printf '\t')" \
  || { echo "produce failed"; exit 1; }
wait_for_line "$tmp/run.log" 'hello json'
kill -INT "$run_pid"
wait "$run_pid"
rc=$?
run_pid=""
[ $rc -eq 0 ] || { echo "weir run exited $rc"; cat "$tmp/run.log"; exit 1; }
"$python" "$checker" "$tmp/run.log"
