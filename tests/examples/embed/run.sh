#!/bin/sh
# usage: run.sh WEIR EMBED [PLUGIN_DIR]
# Runs the embedding example on a `weir broker` (its own process): three
# records in, the example's linked-in operator and std's filter, exactly the
# expected records out, and a clean stop with the state read back.
set -u
. "$(dirname "$0")/../../support/wait.sh"
weir=$1 embed=$2
[ $# -ge 3 ] && { WEIR_WEIR__PLUGIN_DIR=$3; export WEIR_WEIR__PLUGIN_DIR; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-embed.XXXXXX")
broker_pid=""
cleanup() {
  [ -n "$broker_pid" ] && { kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$weir" broker --partitions 1 --topic in --topic out >"$tmp/addr" 2>"$tmp/broker.log" &
broker_pid=$!
addr=$(broker_address "$tmp/addr")
printf 'k\thello world\nk\tnot 4 digits\nk\tbye\n' |
  "$weir" produce -b "$addr" -t in --key-separator "$(printf '\t')" || exit 1

"$embed" "$addr" 3 "$tmp/state" >"$tmp/embed.out" 2>"$tmp/embed.err"
rc=$?
cat "$tmp/embed.out"
[ $rc -eq 0 ] || { echo "embed exited $rc"; cat "$tmp/embed.err"; exit 1; }
"$weir" consume -b "$addr" -t out --max 2 --idle-ms 30000 >"$tmp/out" 2>/dev/null
printf 'k\tHELLO WORLD\nk\tBYE\n' >"$tmp/want"
diff "$tmp/want" "$tmp/out" || { echo "unexpected records in 'out'"; exit 1; }
grep -q '^embed: reload refused: embed.ini was started from INI text' "$tmp/embed.out" ||
  { echo "a reload of a runtime started from text was not refused"; exit 1; }
grep -q '^embed: weir [0-9.]*, 3 records processed, stopped, exit code 0, logged through the callback: yes$' \
  "$tmp/embed.out" || { echo "unexpected final state"; exit 1; }
echo "EMBED-OK"
