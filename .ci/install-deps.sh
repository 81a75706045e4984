#!/bin/sh
# Installs the Debian packages weir needs, only those missing. Non-interactive;
# uses sudo when not root. Prints nothing when everything is present.
set -eu
PKGS="build-essential cmake pkg-config librdkafka-dev libinih-dev librocksdb-dev libcmocka-dev"
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
