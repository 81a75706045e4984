#!/bin/sh
# usage: package.sh BUILD_DIR SOURCE_DIR
# The Debian packages as a user gets them: `cpack -G DEB`, both packages
# unpacked into a throwaway root with dpkg -x; the packaged weir runs on the
# packaged libweir and plugins; then, against the files of
# that root only, a plugin built with pkg-config and run by the packaged
# weir, and the embedding example built with pkg-config and with CMake
# (find_package(weir)) and run on a `weir broker` with exact outputs, its
# std plugin found beside the packaged libweir.
set -eu
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
fail() { echo "deploy/package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/debs") >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB failed"; }
root=$tmp/root
for pkg in weir libweir-dev; do
  deb=$(ls "$tmp/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || fail "no $pkg package made"
  dpkg -x "$deb" "$root"
  echo "$pkg: $(dpkg-deb -f "$deb" Version), $(dpkg -c "$deb" | wc -l) entries"
done
for f in usr/bin/weir usr/lib/weir/plugins/std.so usr/lib/systemd/system/weir@.service \
  usr/share/man/man1/weir.1 usr/include/weir/runtime.h usr/lib/pkgconfig/weir.pc \
  usr/lib/cmake/weir/weirConfig.cmake usr/lib/libweir-test-driver.so; do
  [ -e "$root/$f" ] || fail "$f is in neither package"
done
weir=$root/usr/bin/weir
# Every library the packaged weir and libweir link (but libc6's) is a
# package the weir package depends on.
depends=$(dpkg-deb -f "$(ls "$tmp/debs/weir_"*.deb | head -n 1)" Depends)
for elf in "$weir" "$root/usr/lib/libweir.so.0"; do
  for needed in $(readelf -d "$elf" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
    [ -e "$root/usr/lib/$needed" ] && continue # in the package itself
    case $needed in ld-linux*) continue ;; esac  # libc6's loader
    path=$(ldd "$elf" | awk -v n="$needed" '$1 == n {print $3}')
    # dpkg knows a file by one of its paths (merged /usr: /lib or /usr/lib).
    pkg=$( (dpkg -S "$path" || dpkg -S "$(readlink -f "$path")") 2>/dev/null | head -n 1 | cut -d: -f1)
    [ -n "$pkg" ] || fail "$elf links $needed ($path), which no Debian package holds"
    [ "$pkg" = libc6 ] && continue
    echo "$depends" | grep -q "$pkg" || fail "$elf links $needed of $pkg, not in Depends: $depends"
  done
done
"$weir" --version | head -n 1
# The packaged weir is a program on the packaged libweir (issue 17, item 1),
# and finds the packaged std relative to itself.
linked=$(ldd "$weir" | awk '/libweir\.so/ {print $3}')
[ "$(readlink -f "$linked")" = "$(readlink -f "$root/usr/lib/libweir.so.0")" ] ||
  fail "the packaged weir runs with '$linked', not the packaged libweir"
"$weir" describe "$src/config/demo.ini" --set weir.plugin.dir=/nonexistent |
  grep -q "plugin std ($root/usr/bin/../lib/weir/plugins/std.so)" ||
  fail "the packaged weir does not find the packaged std plugin"
man -l "$root/usr/share/man/man1/weir.1" 2>/dev/null | grep -q 'processing.guarantee' ||
  fail "weir(1) does not document [weir] processing.guarantee"

# Only the root's .pc files: they find their prefix from their own place.
PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig
PKG_CONFIG_PATH=
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH

# 1. A plugin, plain cc + pkg-config weir-sdk, loaded by the packaged weir.
cc -shared -fPIC -Wall -Werror $(pkg-config --cflags weir-sdk) "$src/tests/sdk/hello_op.c" \
  -o "$tmp/hello_op.so" || fail "building a plugin against the packaged SDK failed"
"$weir" plugin info "$tmp/hello_op.so" | grep -q hello-greet || fail "packaged weir cannot load it"

# 2. The embedding example, cc + pkg-config weir.
cc -Wall -Werror "$src/tests/examples/embed/embed.c" $(pkg-config --cflags --libs weir) \
  -o "$tmp/embed_pc" || fail "building the embedding example with pkg-config weir failed"
linked=$(ldd "$tmp/embed_pc" | awk '/libweir\.so/ {print $3}')
[ "$(readlink -f "$linked")" = "$(readlink -f "$root/usr/lib/libweir.so.0")" ] ||
  fail "embed_pc runs with $linked, not the packaged libweir"
sh "$src/tests/examples/embed/run.sh" "$weir" "$tmp/embed_pc" | tail -n 2

# 3. The same with CMake, find_package(weir) from the root only.
cmake -S "$src/tests/examples/embed" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$root/usr" \
  -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF >"$tmp/cmake.log" 2>&1 &&
  cmake --build "$tmp/cmake" >>"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log" >&2; fail "building the example with find_package(weir) failed"; }
sh "$src/tests/examples/embed/run.sh" "$weir" "$tmp/cmake/embed" | tail -n 2
echo "PACKAGE-OK"
