#!/bin/sh
# usage: query.sh WEIR PLUGIN_DIR CONFIG
# Runs the word count (embedded broker, HTTP on a free port), feeds it three
# lines, and asks it with `weir query`: a key, a missing key, a range and a
# prefix. Prints what each printed; "QUERY-OK" when all answered as expected.
set -u
. "$(dirname "$0")/../support/wait.sh"
weir=$1 plugins=$2 config=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-cli-query.XXXXXX")
pid=""
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$weir" run "$config" --set weir.plugin.dir="$plugins" --set weir.state.dir="$tmp/state" \
  --set weir.http.listen=127.0.0.1:0 --set store:word-counts.key.serde=string \
  --set store:word-counts.value.serde=int64 >"$tmp/log" 2>&1 &
pid=$!
wait_for_line "$tmp/log" "embedded broker on"
wait_for_line "$tmp/log" "(port [0-9]*)"
wait_for_line "$tmp/log" "rebalance: gained"
broker=$(sed -n 's/.*embedded broker on \([0-9.:]*\).*/\1/p' "$tmp/log" | head -n 1)
port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$tmp/log" | head -n 1)
printf 'hello world hello\nthe quick brown fox\nhello again world\n' |
  "$weir" produce -b "$broker" -t text-lines >/dev/null || exit 1
hello_is_3() {
  "$weir" query "127.0.0.1:$port" word-counts hello >"$tmp/out" 2>&1 && grep -qx "hello = 3" "$tmp/out"
}
wait_until 60 hello_is_3 || { echo "hello never reached 3:"; cat "$tmp/out"; exit 1; }
q() { "$weir" query "127.0.0.1:$port" word-counts "$@"; }
ok=1
# check NAME EXPECTED-EXIT EXPECTED-STDOUT EXPECTED-STDERR-PART -- ARGS...
check() {
  name=$1 want_rc=$2 want_out=$3 want_err=$4
  shift 5
  q "$@" >"$tmp/o" 2>"$tmp/e"
  rc=$?
  if [ $rc -ne "$want_rc" ] || [ "$(cat "$tmp/o")" != "$want_out" ] ||
    { [ -n "$want_err" ] && ! grep -q -- "$want_err" "$tmp/e"; }; then
    echo "$name: exit $rc, stdout:"; cat "$tmp/o"; echo "stderr:"; cat "$tmp/e"
    ok=0
  fi
}
tab=$(printf '\t')
check key 0 "hello = 3" "" -- hello
check missing 1 "" "has no key nope (partition [0-9]*) (HTTP 404)" -- nope
check first_page 0 "again${tab}1
brown${tab}1
fox${tab}1" "more keys follow" -- --range --limit 3
check prefix 0 "world${tab}2" "" -- --range --prefix wor
check from_to 0 "quick${tab}1
the${tab}1" "" -- --range --from q --to u
check bad_usage 2 "" "usage: weir query" -- --range extra
[ $ok -eq 1 ] && echo "QUERY-OK"
