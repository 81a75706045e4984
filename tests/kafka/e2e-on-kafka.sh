#!/bin/sh
# Runs a command (the e2e suite) against a real Kafka broker started for it,
# or, with WEIR_TEST_KAFKA=skip, says loudly that it skipped them.
#   e2e-on-kafka.sh DIR CMD...
set -eu
dir=$1
shift
if [ "${WEIR_TEST_KAFKA:-}" = skip ]; then
  echo "######################################################################"
  echo "# SKIPPED: end-to-end tests on the real Kafka broker (WEIR_TEST_KAFKA=skip)"
  echo "######################################################################"
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
"$here/kafka.sh" fetch
rm -rf "$dir"
mkdir -p "$dir"
echo "weir: end-to-end tests on a real Apache Kafka broker (tests/kafka/kafka.sh)"
exec "$here/kafka.sh" run "$dir" -- "$@"
