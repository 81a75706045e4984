# One core kept busy while tests run, as a slower or shared machine would
# be; sourced by tests/stress.sh and tests/e2e/run-loaded.sh (POSIX sh).
#
#   load_start MODE WHO   MODE: stress-ng | busy | none, or empty for
#                         stress-ng when installed, else a shell busy loop;
#                         WHO names the script in the error for a bad MODE.
#                         Sets load_mode and load_pid (empty for none).
#   load_stop             also run however the script ends: success,
#                         failure, Ctrl-C (INT exits 130), TERM (143).
load_pid=
load_mode=

load_stop() {
  if [ -n "$load_pid" ]; then
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=
  fi
}

load_start() {
  load_mode=${1:-}
  if [ -z "$load_mode" ]; then
    if command -v stress-ng >/dev/null 2>&1; then load_mode=stress-ng; else load_mode=busy; fi
  fi
  trap load_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  case $load_mode in
  stress-ng) stress-ng --cpu 1 --quiet & load_pid=$! ;;
  busy) (while :; do :; done) & load_pid=$! ;;
  none) ;;
  *) echo "$2: LOAD must be stress-ng, busy or none, not '$load_mode'" >&2; return 2 ;;
  esac
}
