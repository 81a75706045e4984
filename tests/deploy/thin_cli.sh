#!/bin/sh
# usage: thin_cli.sh WEIR CORE_ARCHIVE
# The weir command is a thin user of libweir (issue 17, item 1): it needs
# libweir.so.0, finds it (build RPATH here, $ORIGIN once installed), and
# carries no copy of the runtime: none of the runtime's own functions
# (the global symbols of the weir_core archive libweir is made of) is
# defined in the executable.
set -u
weir=$1 core=$2
fail() { echo "deploy/thin_cli: $*" >&2; exit 1; }
readelf -d "$weir" | grep -q 'NEEDED.*\[libweir\.so\.0\]' ||
  fail "$weir does not link libweir.so.0 (readelf -d: $(readelf -d "$weir" | grep NEEDED | tr -s ' '))"
lib=$(ldd "$weir" | awk '/libweir\.so\.0/ {print $3}')
[ -n "$lib" ] && [ -e "$lib" ] || fail "$weir does not find libweir.so.0 (ldd: $(ldd "$weir" | grep weir))"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-thin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
nm --defined-only -g "$core" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u >"$tmp/core"
[ -s "$tmp/core" ] || fail "no symbols read from $core"
nm --defined-only "$weir" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/weir"
comm -12 "$tmp/core" "$tmp/weir" >"$tmp/both"
if [ -s "$tmp/both" ]; then
  echo "$weir defines $(wc -l <"$tmp/both") of the runtime's own symbols, e.g.:" >&2
  head -n 5 "$tmp/both" >&2
  exit 1
fi
echo "weir: $(stat -c %s "$weir") bytes, $(wc -l <"$tmp/weir") symbols defined, none of the" \
  "runtime's $(wc -l <"$tmp/core"); libweir from $lib"
echo "THIN-OK"
