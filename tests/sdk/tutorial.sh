#!/bin/sh
# usage: tutorial.sh BUILD_DIR SOURCE_DIR
# A new user's first hour, as README.md tells it: install weir under a prefix
# of its own (cmake --install --prefix), build the README's `op.c` with the
# installed SDK, and run the README's `shout.ini` with the installed `weir`
# on `weir broker`: `plugin = std` must come from the prefix, and the
# records must come out as the README says.
#
# The files are cut from README.md itself, so the test checks what the
# README says. Markers: the fenced block after the line that starts with
# "`op.c` —" is op.c; the fenced block after the line "`shout.ini`:" is
# shout.ini, whose absolute plugin path (…/op.so) is replaced with ours.
set -eu
build=$1 src=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-tutorial.XXXXXX")
pids=""
# Newest first: `weir run` leaves the group while its broker is still up.
cleanup() {
  for p in $pids; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
prefix=$tmp/prefix

fail() {
  echo "sdk/tutorial: $*" >&2
  for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}

# The fenced block after the first line starting with MARKER.
extract() { # MARKER OUT
  awk -v m="$1" '
    !found && index($0, m) == 1 { found = 1; next }
    found == 1 && /^```/ { found = 2; next }
    found == 2 && /^```/ { exit }
    found == 2 { print }' "$src/README.md" >"$2"
  [ -s "$2" ] || fail "README.md has no fenced block after a line starting with '$1'"
}

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  fail "cmake --install --prefix $prefix failed"
weir=$prefix/bin/weir
[ -x "$weir" ] || fail "no bin/weir under $prefix"

mkdir "$tmp/shout"
extract '`op.c` —' "$tmp/shout/op.c"
extract '`shout.ini`:' "$tmp/shout/shout.ini.readme"

pc=$(find "$prefix" -name weir-sdk.pc | head -n 1)
[ -n "$pc" ] || fail "no weir-sdk.pc under $prefix"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
(cd "$tmp/shout" && cc -shared -fPIC $(pkg-config --cflags weir-sdk) op.c -o op.so) \
  >"$tmp/cc.log" 2>&1 || fail "building the README's op.c failed"

grep -q '= */[^ ;]*/op\.so' "$tmp/shout/shout.ini.readme" ||
  fail "the README's shout.ini names no absolute path to op.so"
sed "s#= */[^ ;]*/op\\.so#= $tmp/shout/op.so#" "$tmp/shout/shout.ini.readme" >"$tmp/shout/shout.ini"

# Run from the user's directory, with nothing of the build tree in reach.
cd "$tmp/shout"
"$weir" validate shout.ini >"$tmp/validate.log" 2>&1 ||
  fail "weir validate shout.ini failed (is std found under $prefix?)"

# `--set NAME.KEY=VALUE`, as the README writes it, shown as an override.
"$weir" describe shout.ini --set shout.min.length=5 >"$tmp/describe.log" 2>&1 ||
  fail "weir describe shout.ini --set shout.min.length=5 failed"
grep -q 'min.length = 5  (--set)' "$tmp/describe.log" ||
  fail "describe does not show min.length = 5 as a --set override"

# Step 6: the broker in its own process, then run, produce, consume.
"$weir" broker --partitions 2 --topic text-lines --topic upper-lines >broker.addr 2>"$tmp/broker.log" &
pids="$! $pids"
i=0
while ! [ -s broker.addr ] || ! head -n 1 broker.addr | grep -q ':'; do
  i=$((i + 1))
  [ $i -le 600 ] || fail "weir broker printed no address within 60 s"
  sleep 0.1
done
ADDR=$(head -n 1 broker.addr)
"$weir" run shout.ini --set weir.bootstrap.servers="$ADDR" >"$tmp/run.log" 2>&1 &
pids="$! $pids"
printf 'hello world\nhi\nweir streams\n' | "$weir" produce -b "$ADDR" -t text-lines \
  >"$tmp/produce.log" 2>&1 || fail "weir produce failed"
# Two records are expected; the bound is generous, the wait ends at the second.
"$weir" consume -b "$ADDR" -t upper-lines --max 2 --idle-ms 60000 --timeout-ms 90000 \
  >"$tmp/consume.out" 2>"$tmp/consume.log" || fail "weir consume failed"
grep -q 'HELLO WORLD' "$tmp/consume.out" || fail "no HELLO WORLD in upper-lines"
grep -q 'WEIR STREAMS' "$tmp/consume.out" || fail "no WEIR STREAMS in upper-lines"
! cut -f2 "$tmp/consume.out" | grep -qx 'HI' || fail "HI is shorter than min.length but came out"
grep -q 'value="HELLO WORLD"' "$tmp/run.log" || fail "the log node printed no HELLO WORLD"
echo "sdk/tutorial: ok"
