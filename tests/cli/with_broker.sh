#!/bin/sh
# usage: with_broker.sh WEIR [weir broker args...] -- COMMAND [ARGS...]
# Starts `weir broker` (its own process, in memory), runs COMMAND with every
# @ADDR@ in its arguments replaced by the broker's address, prints its
# output and "EXIT-NONZERO" when it failed, and stops the broker.
set -u
. "$(dirname "$0")/../support/wait.sh"
weir=$1
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-cli-broker.XXXXXX")
broker_pid=""
cleanup() {
  [ -n "$broker_pid" ] && { kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

args=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do args="$args $1"; shift; done
[ $# -gt 0 ] && shift
# shellcheck disable=SC2086 # broker args are plain words
"$weir" broker $args >"$tmp/addr" 2>"$tmp/broker.log" &
broker_pid=$!
addr=$(broker_address "$tmp/addr")

n=$#
while [ $n -gt 0 ]; do
  a=$1
  shift
  case $a in *@ADDR@*) a=$(printf '%s' "$a" | sed "s|@ADDR@|$addr|g") ;; esac
  set -- "$@" "$a"
  n=$((n - 1))
done
cd "$tmp" && "$@" 2>&1
rc=$?
[ $rc -ne 0 ] && echo "EXIT-NONZERO"
exit 0
