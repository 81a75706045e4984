/* weir run — a topology file run by libweir (weir_runtime_start_file) until
 * SIGINT/SIGTERM; SIGHUP reloads. What stays here is what belongs to a
 * process rather than to a library: its signals, and ending the process
 * when a stop hangs. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <weir/runtime.h>

#include "commands.h"
#include "topo_args.h"

enum { SHUTDOWN_TIMEOUT_MS = 10000, TICK_MS = 200 };

static int64_t monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int next_signal(const sigset_t *set, int timeout_ms) {
  struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
  return sigtimedwait(set, NULL, &ts);
}

static int stopping(weir_runtime_t *rt) {
  weir_runtime_state_t st = {.struct_size = sizeof st};
  return weir_runtime_state(rt, &st) == 0 && st.stopping;
}

/* Until a stop signal, or a failure stops the runtime by itself. */
static void run_until_stop(weir_runtime_t *rt, const sigset_t *signals) {
  for (;;) {
    int sig = next_signal(signals, TICK_MS);
    if (sig == SIGHUP) {
      char report[1024];
      weir_runtime_reload_from(rt, "SIGHUP", report, sizeof report); /* logs the report */
      continue;
    }
    if (sig == SIGINT || sig == SIGTERM) {
      weir_runtime_log(WEIR_LOG_INFO, "received %s: stopping (drain, flush, commit)",
                       sig == SIGINT ? "SIGINT" : "SIGTERM");
      weir_runtime_stop(rt);
      return;
    }
    if (stopping(rt))
      return;
  }
}

/* A second signal, or a stop past its bound, ends the process at once
 * rather than hanging on a broker that is gone. */
static void bounded_stop(weir_runtime_t *rt, int limit_ms) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  int64_t deadline = monotonic_ms() + limit_ms;
  while (!weir_runtime_wait(rt, 0)) {
    int64_t left = deadline - monotonic_ms();
    if (left <= 0) {
      weir_runtime_log(WEIR_LOG_ERROR,
                       "shutdown did not finish within %d ms: exiting; records not committed "
                       "will be processed again",
                       limit_ms);
      _exit(1);
    }
    /* EINTR (e.g. LeakSanitizer stopping the threads) is neither. */
    if (next_signal(&stop, left < TICK_MS ? (int)left : TICK_MS) > 0) {
      weir_runtime_log(WEIR_LOG_ERROR,
                       "second signal: exiting now; records not committed will be processed "
                       "again");
      _exit(1);
    }
  }
}

int weir_cmd_run(int argc, char **argv) {
  topo_args_t a;
  sigset_t signals;
  if (weir_cli_parse_topo_args(argc, argv, &a, "run"))
    return 2;
  if (a.help) {
    puts("usage: weir run FILE [--set SECTION.KEY=VALUE]...\n"
         "Runs the topology in FILE until SIGINT or SIGTERM, then drains, flushes, commits and\n"
         "exits 0 (1 after a failure). SIGHUP, `weir reload FILE` or a new build of a loaded\n"
         "plugin swaps in changed operators and parameters while records flow.\n"
         "--set overrides a key, e.g.\n"
         "  --set weir.bootstrap.servers=127.0.0.1:9092 --set operator:words.pattern='[a-z]+'");
    return 0;
  }
  /* Blocked before libweir starts a thread, so every thread inherits it and
   * only this one takes them, synchronously. */
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  a.opts.shutdown_timeout_ms = SHUTDOWN_TIMEOUT_MS;
  a.opts.systemd_notify = 1;
  char *errors = calloc(1, 64 * 1024);
  if (!errors)
    return 1;
  weir_runtime_t *rt = weir_runtime_start_file(a.file, &a.opts, errors, 64 * 1024);
  if (!rt) {
    weir_cli_print_errors(errors);
    free(errors);
    return 1;
  }
  free(errors);
  run_until_stop(rt, &signals);
  /* Each flush/commit/close step is bounded; four of them and a margin. */
  bounded_stop(rt, 4 * SHUTDOWN_TIMEOUT_MS + 5000);
  return weir_runtime_free(rt);
}
