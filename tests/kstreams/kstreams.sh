#!/usr/bin/env bash
# The Kafka Streams windowed counts (WindowCounts.java) for weir's window
# differential test and the windowed benchmark, and its joins (Joins.java)
# for the join differential test. See tests/kstreams/README.md.
#
#   kstreams.sh build            build the jar and write the class path of its
#                                dependencies in ~/.m2 beside it (offline from ~/.m2 first, then from Maven Central);
#                                does nothing when the jar is newer than its sources
#   kstreams.sh run ARGS...      exec the JVM on WindowCounts ARGS (builds first if needed)
#   kstreams.sh joins ARGS...    the same on Joins (the join differential test's joins)
#   kstreams.sh classpath        print the class path (after building if needed)
#
# Environment: WEIR_KSTREAMS_OUT (where the jar and classpath.txt go; default
#              tests/kstreams/target), WEIR_KSTREAMS_HEAP (default 512m),
#              WEIR_KSTREAMS_LOG (slf4j level, default warn; the per-record
#              "Skipping record for expired window" warnings only at this level),
#              JAVA (default: java), MVN (default: mvn).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${WEIR_KSTREAMS_OUT:-"$HERE/target"}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
HEAP=${WEIR_KSTREAMS_HEAP:-512m}
JAR="$OUT/weir-kstreams-windows.jar"
CPFILE="$OUT/classpath.txt"

die() { echo "kstreams.sh: $*" >&2; exit 1; }

# Built, and nothing it is built from is newer: pom, sources, this script.
up_to_date() {
    [ -f "$JAR" ] && [ -s "$CPFILE" ] || return 1
    local j
    for j in $(tr ':' ' ' <"$CPFILE"); do
        [ -f "$j" ] || return 1
    done
    [ -z "$(find "$HERE/pom.xml" "$HERE/src" -newer "$JAR" -print -quit)" ]
}

build_locked() {
    local log="$OUT/build.log" mvnargs
    mvnargs=(-B -q -f "$HERE/pom.xml" -Dstyle.color=never "-Dkstreams.out=$OUT" package)
    rm -f "$CPFILE" "$JAR"
    # Offline first (everything may be in ~/.m2 already), then online.
    if ! "$MVN" -o "${mvnargs[@]}" >"$log" 2>&1; then
        if ! "$MVN" "${mvnargs[@]}" >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            die "building the Kafka Streams app with maven failed (log: $log)"
        fi
    fi
    [ -f "$JAR" ] && [ -s "$CPFILE" ] || die "$JAR or $CPFILE missing after the build (log: $log)"
    rm -f "$log"
}

cmd_build() {
    up_to_date && return 0
    command -v "$MVN" >/dev/null 2>&1 || die "maven ($MVN) not found (Debian package: maven)"
    mkdir -p "$OUT"
    # One build at a time (the test and the bench may share OUT); the lock
    # goes when the block ends.
    {
        if command -v flock >/dev/null 2>&1; then
            flock -w 900 9 || die "timed out waiting for another build ($OUT/.build.lock)"
        fi
        up_to_date || build_locked
    } 9>"$OUT/.build.lock"
}

classpath() {
    printf '%s:%s' "$JAR" "$(cat "$CPFILE")"
}

[ $# -ge 1 ] || die "usage: kstreams.sh build | run ARGS... | joins ARGS... | classpath"
sub=$1; shift
case "$sub" in
    build) [ $# -eq 0 ] || die "usage: kstreams.sh build"; cmd_build ;;
    classpath) cmd_build; classpath; echo ;;
    run|joins)
        main=weir.kstreams.WindowCounts
        [ "$sub" = joins ] && main=weir.kstreams.Joins
        command -v "$JAVA" >/dev/null 2>&1 || die "java ($JAVA) not found (Debian package: default-jdk-headless)"
        cmd_build
        exec "$JAVA" "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
            -Dorg.slf4j.simpleLogger.defaultLogLevel="${WEIR_KSTREAMS_LOG:-warn}" -Dorg.slf4j.simpleLogger.showDateTime=true \
            -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
            -Dorg.slf4j.simpleLogger.log.org.apache.kafka.streams.kstream.internals="${WEIR_KSTREAMS_LOG:-error}" \
            -cp "$(classpath)" \
            "$main" "$@" ;;
    -h|--help|help) sed -n '2,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' ;;
    *) die "unknown subcommand '$sub' (build | run | joins | classpath)" ;;
esac
