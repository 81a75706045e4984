#!/usr/bin/env bash
# A real, single-node Apache Kafka broker (KRaft, combined broker+controller)
# for weir's tests, on 127.0.0.1 only. See tests/kafka/README.md.
#
#   kafka.sh fetch               fetch Kafka's jars into tests/kafka/.cache (idempotent)
#   kafka.sh start DIR           format + start a broker with its data, log and pid in DIR;
#                                prints the bootstrap address (also in DIR/bootstrap)
#   kafka.sh stop DIR            SIGTERM, up to 20 s, then SIGKILL
#   kafka.sh restart DIR         start DIR's stopped broker again: same port, same data
#   kafka.sh run DIR -- CMD...   start, run CMD with WEIR_TEST_KAFKA_BOOTSTRAP (and
#                                WEIR_TEST_KAFKA_DIR, for stop/restart) set, stop;
#                                exits with CMD's status
#
# Environment: WEIR_KAFKA_VERSION (default: the pom's kafka.version),
#              WEIR_KAFKA_CACHE (default: tests/kafka/.cache),
#              WEIR_KAFKA_HEAP (default: 512m), WEIR_KAFKA_START_TIMEOUT (s, default 60),
#              WEIR_KAFKA_WATCH_PID (start: stop the broker when this process is gone;
#              `run` sets it to its own pid), JAVA (default: java), MVN (default: mvn).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
POM="$HERE/pom.xml"
CACHE=${WEIR_KAFKA_CACHE:-"$HERE/.cache"}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
HEAP=${WEIR_KAFKA_HEAP:-512m}
START_TIMEOUT=${WEIR_KAFKA_START_TIMEOUT:-60}

die() { echo "kafka.sh: $*" >&2; exit 1; }

kafka_version() {
    if [ -n "${WEIR_KAFKA_VERSION:-}" ]; then
        echo "$WEIR_KAFKA_VERSION"
    else
        sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1
    fi
}

VERSION=$(kafka_version)
[ -n "$VERSION" ] || die "cannot read kafka.version from $POM"
LIB="$CACHE/kafka-$VERSION/lib"
STAMP="$CACHE/kafka-$VERSION/complete"

# ---------------------------------------------------------------- fetch
cache_complete() {
    [ -f "$STAMP" ] && [ -f "$LIB/kafka_2.13-$VERSION.jar" ] || return 1
    local j
    while IFS= read -r j; do
        [ -f "$LIB/$j" ] || return 1
    done <"$STAMP"
}

cmd_fetch() {
    cache_complete && return 0
    command -v "$MVN" >/dev/null 2>&1 || die "maven ($MVN) not found (Debian package: maven)"
    mkdir -p "$CACHE"
    # One fetch at a time (parallel test fixtures); the others wait, then find
    # the cache complete. The lock is released when the block ends.
    {
        if command -v flock >/dev/null 2>&1; then
            flock -w 900 9 || die "timed out waiting for another fetch ($CACHE/.fetch.lock)"
        fi
        cache_complete || fetch_locked
    } 9>"$CACHE/.fetch.lock"
}

fetch_locked() {
    local tmp="$CACHE/kafka-$VERSION.tmp.$$" log="$CACHE/fetch-$VERSION.log"
    rm -rf "$tmp"
    # Offline first (everything may be in ~/.m2 already), then online.
    if ! "$MVN" -B -q -o -f "$POM" -Dkafka.version="$VERSION" -Dstyle.color=never \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" \
            >"$log" 2>&1; then
        rm -rf "$tmp"
        if ! "$MVN" -B -q -f "$POM" -Dkafka.version="$VERSION" -Dstyle.color=never \
                dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" \
                >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            rm -rf "$tmp"
            die "fetching Kafka $VERSION with maven failed (log: $log)"
        fi
    fi
    [ -f "$tmp/lib/kafka_2.13-$VERSION.jar" ] || { rm -rf "$tmp"; die "kafka_2.13-$VERSION.jar missing after fetch"; }
    (cd "$tmp/lib" && ls -1 *.jar) >"$tmp/complete"
    rm -rf "$CACHE/kafka-$VERSION"
    mv "$tmp" "$CACHE/kafka-$VERSION"
    rm -f "$log"
}

classpath() {
    local cp="" j
    for j in "$LIB"/*.jar; do cp="${cp:+$cp:}$j"; done
    printf '%s' "$cp"
}

# ---------------------------------------------------------------- ports
port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        ss -Htan 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$1\$"
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# Ports for a broker come from outside the kernel's ephemeral range: a
# test that stops its broker and starts it again on the same port
# (`restart`) found the port taken, in between, as the source port of some
# client's connection to another broker ("Address already in use", make
# test's broker-fault job beside the shared one, 2026-12-07). Below the
# range when it leaves room (10000-32767 with Linux's default 32768-60999),
# else above it.
port_window() {
    local lo=32768 hi=60999 range
    range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) && read -r lo hi <<<"$range"
    if [ "$lo" -gt 11000 ]; then
        echo "10000 $((lo - 1))"
    elif [ "$hi" -lt 64535 ]; then
        echo "$((hi + 1)) 65535"
    else
        echo "20000 59999" # no room outside: a restart may then meet a taken port
    fi
}

free_port() {
    local p i from to
    read -r from to <<<"$(port_window)"
    for i in $(seq 1 200); do
        p=$(( from + (RANDOM * 32768 + RANDOM) % (to - from + 1) ))
        case " ${USED_PORTS:-} " in *" $p "*) continue ;; esac
        if ! port_in_use "$p"; then
            USED_PORTS="${USED_PORTS:-} $p"
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# ---------------------------------------------------------------- start
# A detached watcher (double fork + setsid, so nothing that kills the caller's
# process tree takes it along) stops the broker once WATCHED has gone, e.g.
# when a test runner SIGKILLs `kafka.sh run` on a time-out.
start_watcher() {  # WATCHED BROKER_PID
    ( setsid bash -c '
        while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
        kill -0 "$2" 2>/dev/null || exit 0
        kill -TERM "$2" 2>/dev/null
        for i in $(seq 1 20); do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done
        kill -KILL "$2" 2>/dev/null' _ "$1" "$2" </dev/null >/dev/null 2>&1 & )
}

# Whether PID still runs: a zombie does not (its sockets and files are
# closed). This machine's init reaped a dead broker 1.2-1.7 s after it
# died, which `stop` used to wait out: 2.2-2.9 s a stop, 0.4 s now.
running() {
    kill -0 "$1" 2>/dev/null || return 1
    [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

broker_pid() {
    [ -f "$1/kafka.pid" ] || return 1
    local pid
    pid=$(cat "$1/kafka.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && running "$pid" || return 1
    # Never signal a recycled pid: it must still be this broker.
    if [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
    fi
    echo "$pid"
}

write_config() {  # DIR PORT CPORT
    local dir=$1 port=$2 cport=$3
    cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
metadata.log.dir=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
# test_faults (b) freezes the broker (SIGSTOP) for ~20 s. Past this timeout
# (9 s by default) the node fences itself as it resumes, and for those ~0.1 s
# Kafka 4.4's transaction coordinator skips the markers of partitions without
# a leader ("likely deleted"): a transaction aborted then kept its records
# open there, and the same producer id's next commit made them visible (a
# count past its input under exactly_once). One node has nowhere to move
# leadership, so a frozen test broker is not a dead one.
broker.session.timeout.ms=120000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.check.interval.ms=300000
delete.topic.enable=true
EOF
    cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.ak.name = org.apache.kafka
logger.ak.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.req.name = kafka.request.logger
logger.req.level = WARN
EOF
    sed 's/^rootLogger.level = INFO/rootLogger.level = WARN/; s/^\(logger\.[a-z]*\.level\) = INFO/\1 = WARN/' \
        "$dir/log4j2.properties" >"$dir/log4j2-tools.properties"
}

# One try at formatting and starting on fresh ports. Returns 0 when ready,
# 2 when a port was taken meanwhile (caller retries), 1 on any other failure.
try_start() {  # DIR
    local dir=$1 port cport cp jvm i pid
    USED_PORTS=""
    port=$(free_port) || return 1
    USED_PORTS="$port"
    cport=$(free_port) || return 1
    rm -rf "$dir/data"
    mkdir -p "$dir/data"
    write_config "$dir" "$port" "$cport"
    cp=$(classpath)
    jvm=(-Xms128m "-Xmx$HEAP" -Djava.awt.headless=true -cp "$cp")

    # A random cluster id as `kafka-storage random-uuid` makes it: 16 random
    # bytes, base64url without padding, not starting with '-'.
    local cid=""
    while [ -z "$cid" ] || [ "${cid#-}" != "$cid" ]; do
        cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    done
    if ! "$JAVA" "${jvm[@]}" "-Dlog4j2.configurationFile=$dir/log4j2-tools.properties" \
            kafka.tools.StorageTool format -t "$cid" \
            -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
        cat "$dir/format.log" >&2
        return 1
    fi
    echo "$cid" >"$dir/cluster_id"

    launch "$dir" "$port"
}

# Start the JVM on DIR's config and data and wait until it serves PORT.
# Returns 0 when ready, 2 when the port is taken, 1 on any other failure.
launch() {  # DIR PORT
    local dir=$1 port=$2 cp jvm pid
    cp=$(classpath)
    jvm=(-Xms128m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
         -Djava.net.preferIPv4Stack=true "-Dlog4j2.configurationFile=$dir/log4j2.properties"
         "-Dkafka.logs.dir=$dir" -cp "$cp")
    [ ! -s "$dir/kafka.log" ] || cat "$dir/kafka.log" >>"$dir/kafka.log.old"
    : >"$dir/kafka.log"
    # setsid: the broker gets its own process group, so a ^C in the caller's
    # terminal does not kill it behind the back of `stop`.
    setsid "$JAVA" "${jvm[@]}" -Dweir.kafka.dir="$dir" kafka.Kafka "$dir/server.properties" \
        >>"$dir/kafka.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/kafka.pid"

    local deadline=$(( $(date +%s) + START_TIMEOUT ))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            rm -f "$dir/kafka.pid"
            if grep -q -i 'Address already in use' "$dir/kafka.log"; then return 2; fi
            return 1
        fi
        if grep -q 'Kafka Server started' "$dir/kafka.log" \
                && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "127.0.0.1:$port" >"$dir/bootstrap"
            [ -z "${WEIR_KAFKA_WATCH_PID:-}" ] || start_watcher "$WEIR_KAFKA_WATCH_PID" "$pid"
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "kafka.sh: broker not ready after ${START_TIMEOUT}s" >&2
            return 1
        fi
        sleep 0.2
    done
}

cmd_start() {
    [ $# -eq 1 ] || die "usage: kafka.sh start DIR"
    local dir=$1 rc=0 attempt
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if broker_pid "$dir" >/dev/null; then
        die "a broker is already running for $dir (pid $(cat "$dir/kafka.pid"))"
    fi
    command -v "$JAVA" >/dev/null 2>&1 || die "java ($JAVA) not found (Debian package: default-jdk-headless)"
    cmd_fetch
    rm -f "$dir/bootstrap"
    for attempt in 1 2 3; do
        rc=0
        try_start "$dir" || rc=$?
        [ "$rc" = 2 ] || break
        echo "kafka.sh: port taken meanwhile, retrying ($attempt)" >&2
    done
    if [ "$rc" != 0 ]; then
        echo "kafka.sh: broker failed to start; last lines of $dir/kafka.log:" >&2
        tail -n 40 "$dir/kafka.log" >&2 || true
        cmd_stop "$dir" >/dev/null 2>&1 || true
        exit 1
    fi
    cat "$dir/bootstrap"
}

# The broker of DIR again, on the same port, with the data it had (a test's
# "broker down and up").
cmd_restart() {
    [ $# -eq 1 ] || die "usage: kafka.sh restart DIR"
    local dir=$1 rc=0
    dir=$(cd "$dir" && pwd)
    broker_pid "$dir" >/dev/null && die "a broker is already running for $dir"
    [ -f "$dir/server.properties" ] && [ -f "$dir/bootstrap" ] || die "no broker was started in $dir"
    launch "$dir" "$(sed 's/.*://' "$dir/bootstrap")" || rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 40 "$dir/kafka.log" >&2 || true
        die "broker failed to restart in $dir"
    fi
    cat "$dir/bootstrap"
}

# ---------------------------------------------------------------- stop
cmd_stop() {
    [ $# -eq 1 ] || die "usage: kafka.sh stop DIR"
    local dir=$1 pid
    pid=$(broker_pid "$dir") || { rm -f "$dir/kafka.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    if ! exited "$pid" 20; then
        echo "kafka.sh: broker $pid still running after 20s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        if ! exited "$pid" 30; then  # a return, not die: run's cleanup keeps CMD's status
            echo "kafka.sh: broker $pid still running 30 s after SIGKILL; $dir/kafka.pid kept" >&2
            return 1
        fi
    fi
    rm -f "$dir/kafka.pid"
}

# Whether PID exits within SECONDS of wall time. A shell cannot wait for
# the exit of a process that is not its child (`stop` may run in another
# invocation than `start`), so this polls the event every 0.1 s: a stop
# returns as soon as the broker is gone, however fast the machine, and the
# bound is time, not a count of polls that a slow machine would stretch.
exited() {  # PID SECONDS
    local deadline=$((SECONDS + $2))
    while running "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- run
on_exit() {
    local rc=$? i
    trap - EXIT INT TERM HUP
    if [ -n "${CMD_PID:-}" ] && kill -0 "$CMD_PID" 2>/dev/null; then
        kill -TERM "$CMD_PID" 2>/dev/null || true
        for i in $(seq 1 50); do kill -0 "$CMD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$CMD_PID" 2>/dev/null || true
    fi
    cmd_stop "$RUN_DIR" >/dev/null 2>&1 || true
    exit "$rc"
}

cmd_run() {
    [ $# -ge 3 ] && [ "$2" = "--" ] || die "usage: kafka.sh run DIR -- CMD..."
    local dir=$1; shift 2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    RUN_DIR=$dir
    CMD_PID=""
    # CMD runs in the background and we `wait` for it, so a signal to this
    # script is handled at once (a foreground child would delay the trap).
    trap 'on_exit' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    local addr rc=0
    addr=$(WEIR_KAFKA_WATCH_PID=$$ cmd_start "$dir") || exit 1
    export WEIR_TEST_KAFKA_BOOTSTRAP="$addr"
    # For tests that take the broker down and up (kafka.sh stop/restart DIR).
    export WEIR_TEST_KAFKA_DIR="$dir" WEIR_KAFKA_WATCH_PID=$$
    exec 3<&0
    "$@" <&3 3<&- &
    CMD_PID=$!
    wait "$CMD_PID" || rc=$?
    CMD_PID=""
    exit "$rc"
}

[ $# -ge 1 ] || die "usage: kafka.sh fetch | start DIR | stop DIR | run DIR -- CMD..."
sub=$1; shift
case "$sub" in
    fetch) [ $# -eq 0 ] || die "usage: kafka.sh fetch"; cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop)  cmd_stop "$@" ;;
    restart) cmd_restart "$@" ;;
    run)   cmd_run "$@" ;;
    -h|--help|help) sed -n '2,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' ;;
    *) die "unknown subcommand '$sub' (fetch | start | stop | restart | run)" ;;
esac
