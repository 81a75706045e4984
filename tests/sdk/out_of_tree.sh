#!/bin/sh
# usage: out_of_tree.sh BUILD_DIR WEIR_BINARY SOURCE_DIR(tests/sdk)
# Installs the SDK component into a temporary prefix, builds hello_op.c the
# two ways a user would (cc + pkg-config, CMake find_package), and checks
# that `weir plugin info` loads each. Everything happens in a temp dir.
set -eu
build=$1 weir=$2 src=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-sdk-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
prefix=$tmp/prefix

fail() { echo "sdk/out_of_tree: $*" >&2; exit 1; }

cmake --install "$build" --component sdk --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "cmake --install --component sdk failed"; }

# libdir is lib or lib/<multiarch> depending on the platform.
pc=$(find "$prefix" -name weir-sdk.pc | head -n 1)
[ -n "$pc" ] || fail "no weir-sdk.pc under $prefix: is it installed with COMPONENT sdk?"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH

check_info() { # FILE.so
  out=$("$weir" plugin info "$1" 2>&1) || { echo "$out" >&2; fail "weir plugin info $1 failed"; }
  case $out in
  *hello-greet*) ;;
  *) echo "$out" >&2; fail "weir plugin info $1 does not list operator hello-greet" ;;
  esac
}

# 1. The plain way, exactly as the SDK docs say, from a directory of its own.
mkdir "$tmp/plain"
cp "$src/hello_op.c" "$tmp/plain/"
(cd "$tmp/plain" && cc -shared -fPIC $(pkg-config --cflags weir-sdk) hello_op.c -o hello_op.so) ||
  fail "building hello_op.c with cc and pkg-config weir-sdk failed"
check_info "$tmp/plain/hello_op.so"

# 2. CMake: find_package(weir-sdk) and weir_add_plugin_module().
cp -r "$src/cmake_consumer" "$tmp/"
cp "$src/hello_op.c" "$tmp/"
cmake -S "$tmp/cmake_consumer" -B "$tmp/cmake_build" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; fail "configuring the find_package(weir-sdk) project failed"; }
cmake --build "$tmp/cmake_build" >>"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log" >&2; fail "building the find_package(weir-sdk) project failed"; }
check_info "$tmp/cmake_build/hello_cmake.so"
echo "sdk/out_of_tree: ok"
