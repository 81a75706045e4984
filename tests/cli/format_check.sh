#!/bin/sh
# Every C source and header of weir's tree is as clang-format (.clang-format)
# writes it; the frozen SDK headers the ABI test compiles against
# (tests/abi/include-*) stay byte for byte as they were released.
#   format_check.sh SOURCE_DIR
set -eu
cd "$1"
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format_check: clang-format is not installed: run 'make test' (it installs it) or apt-get install clang-format" >&2
  exit 1
fi
bad=0 count=0
for f in $(find runtime sdk plugins tests -name '*.[ch]' ! -path 'tests/abi/include-*' | sort); do
  count=$((count + 1))
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "format_check: $f is not clang-formatted: run clang-format -i $f" >&2
    bad=$((bad + 1))
  fi
done
[ "$bad" -eq 0 ] || { echo "format_check: $bad file(s) to format" >&2; exit 1; }
echo "format_check: $count files formatted"
