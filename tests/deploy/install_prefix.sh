#!/bin/sh
# usage: install_prefix.sh BUILD_DIR SOURCE_DIR
# `cmake --install --prefix` anywhere: the installed weir runs on the
# libweir installed beside it ($ORIGIN RUNPATH, not the build tree's) and
# finds its plugins relative to itself (plugin.dir pointing nowhere).
set -u
build=$1 src=$2
fail() { echo "deploy/install_prefix: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-prefix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/some/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }
weir=$prefix/bin/weir
lib=$(ldd "$weir" | awk '/libweir\.so\.0/ {print $3}')
[ -n "$lib" ] || fail "the installed weir does not find libweir.so.0: $(ldd "$weir" | grep weir)"
case "$(readlink -f "$lib")" in
"$(readlink -f "$prefix")"/*) ;;
*) fail "the installed weir runs with $lib, not the libweir of its prefix" ;;
esac
(cd "$tmp" && "$weir" describe "$src/config/demo.ini" --set weir.plugin.dir=/nonexistent) \
  >"$tmp/describe" 2>&1 || { cat "$tmp/describe" >&2; fail "describe failed"; }
grep -q "plugin std ($prefix/bin/../lib.*/weir/plugins/std.so)" "$tmp/describe" ||
  fail "std not found in the prefix: $(grep 'plugin ' "$tmp/describe")"
echo "installed weir: libweir $lib; $(grep -c 'plugin ' "$tmp/describe") operators from the prefix"
echo "PREFIX-OK"
