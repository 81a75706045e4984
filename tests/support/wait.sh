# Sourced by the test scripts: waits that end on an observable event, with a
# wall-clock deadline, never on a guess at the machine's speed.

# wait_until SECONDS COMMAND [ARGS...]: run COMMAND until it succeeds, for at
# most SECONDS of wall clock (a tenth of a second between tries); 0 when it
# did, 1 when the deadline passed.
wait_until() {
  _deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$_deadline" ] || return 1
    sleep 0.1
  done
}

# wait_for_line FILE REGEX [SECONDS]: until a line of FILE matches (60 s by
# default); on timeout say so, print FILE and exit 1.
wait_for_line() {
  wait_until "${3:-60}" grep -q -- "$2" "$1" 2>/dev/null && return 0
  echo "no line matching '$2' in $1 within ${3:-60} s:"
  cat "$1" 2>/dev/null
  exit 1
}

# broker_address FILE: wait for `weir broker`'s first line (its address) in
# FILE and print it.
broker_address() {
  wait_for_line "$1" ':[0-9]'
  head -n 1 "$1"
}
