#!/bin/sh
# Installs the Debian packages weir needs, only those missing. Non-interactive;
# uses sudo when not root. Prints nothing when everything is present.
#   install-deps.sh          the build's packages (make demo)
#   install-deps.sh kafka    also Java and Maven, for the real Kafka broker the
#                            tests and benchmarks run (tests/kafka/DEBIAN_PACKAGES),
#                            and Chromium for the status page's browser test
set -eu
cd "$(dirname "$0")/.."
PKGS="build-essential cmake pkg-config librdkafka-dev libinih-dev librocksdb-dev libcmocka-dev libmicrohttpd-dev curl"
if [ "${1:-}" = kafka ]; then
  PKGS="$PKGS $(tr '\n' ' ' <tests/kafka/DEBIAN_PACKAGES)"
  PKGS="$PKGS chromium" # the status page's browser test (tests/cli/status_page.sh)
  PKGS="$PKGS clang-format" # the style check (tests/cli/format_check.sh)
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "weir: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
