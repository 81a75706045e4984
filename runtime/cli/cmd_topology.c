/* weir run | validate | describe | plugin info */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/env.h"
#include "plugin/loader.h"
#include "reload/control.h"
#include "task/task.h"
#include "topology/topology.h"
#include "util/log.h"
#include "util/sdnotify.h"

long weir_cli_parse_long(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  return (*s && !*end && v >= 0) ? v : -1;
}

weir_topology_t *weir_cli_load_topology(const char *path, char **overrides, int override_count) {
  weir_diag_t d = {0};
  char exe_dir[4096];
  weir_topology_t *t = NULL;
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  if (cfg)
    weir_cfg_apply_env(cfg, environ, &d);
  for (int i = 0; cfg && i < override_count; i++)
    weir_cfg_override(cfg, overrides[i], &d);
  if (cfg && d.count == 0)
    t = weir_topology_build(cfg, weir_exe_dir(exe_dir, sizeof exe_dir) == 0 ? exe_dir : NULL, &d);
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  return t;
}

void weir_cli_free_topology(weir_topology_t *t) {
  weir_topology_free(t);
}

/* Options shared by run/validate/describe: FILE plus --set and a mode flag. */
typedef struct topo_args {
  const char *file;
  char *sets[64];
  int set_count;
  int dot, params, help;
} topo_args_t;

static int parse_topo_args(int argc, char **argv, topo_args_t *a, const char *cmd) {
  static const struct option opts[] = {{"set", required_argument, NULL, 's'},
                                       {"dot", no_argument, NULL, 'd'},
                                       {"params", no_argument, NULL, 'p'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  memset(a, 0, sizeof *a);
  optind = 1;
  while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
    if (c == 's' && a->set_count < 64)
      a->sets[a->set_count++] = optarg;
    else if (c == 'd')
      a->dot = 1;
    else if (c == 'p')
      a->params = 1;
    else if (c == 'h')
      a->help = 1;
    else
      return -1;
  }
  if (a->help)
    return 0;
  if (optind != argc - 1) {
    fprintf(stderr, "weir %s: expected one topology file; see `weir %s --help`\n", cmd, cmd);
    return -1;
  }
  a->file = argv[optind];
  return 0;
}

static void print_count(size_t n, const char *what, const char *sep) {
  if (n)
    printf("%s%zu %s%s", sep, n, what, n == 1 ? "" : "s");
}

/* What the user wrote, then what weir added to it: a group.by inserts a
 * sink and a source per repartition, which are not the user's sections. */
static void print_valid(const char *file, const weir_topology_t *t) {
  size_t kinds[4] = {0}, repartitions = 0, globals = 0;
  for (size_t i = 0; i < t->node_count; i++)
    if (!t->nodes[i]->internal)
      kinds[t->nodes[i]->kind]++;
  for (size_t i = 0; i < t->internal_topic_count; i++)
    repartitions += !t->internal_topics[i].changelog;
  for (size_t i = 0; i < t->store_count; i++)
    globals += t->stores[i].global_topic != NULL;
  printf("%s: valid (", file);
  print_count(kinds[WEIR_NODE_SOURCE], "source", "");
  print_count(kinds[WEIR_NODE_OPERATOR], "operator", ", "); /* a valid topology has a source */
  print_count(kinds[WEIR_NODE_SINK], "sink", ", ");
  print_count(t->store_count - globals, "store", ", ");
  print_count(globals, "global table", ", ");
  print_count(t->plugin_count, "plugin", "; ");
  if (!t->plugin_count)
    printf("; no plugins");
  if (repartitions)
    printf("; +%zu repartition%s inserted", repartitions, repartitions == 1 ? "" : "s");
  printf(")\n");
}

int weir_cmd_validate(int argc, char **argv) {
  topo_args_t a;
  if (parse_topo_args(argc, argv, &a, "validate"))
    return 2;
  if (a.help) {
    puts("usage: weir validate FILE [--set SECTION.KEY=VALUE]...\n"
         "Checks every section, key, value, edge and plugin of FILE; prints each problem as\n"
         "file:line: message. Exit 0 when valid, 1 when not.");
    return 0;
  }
  weir_topology_t *t = weir_cli_load_topology(a.file, a.sets, a.set_count);
  char why[2048];
  if (!t)
    return 1;
  if (weir_task_dry_run(t, why, sizeof why)) {
    fprintf(stderr, "weir: error: %s\n", why);
    weir_topology_free(t);
    return 1;
  }
  print_valid(a.file, t);
  weir_topology_free(t);
  return 0;
}

int weir_cmd_describe(int argc, char **argv) {
  topo_args_t a;
  if (parse_topo_args(argc, argv, &a, "describe"))
    return 2;
  if (a.help) {
    puts("usage: weir describe FILE [--dot | --params] [--set SECTION.KEY=VALUE]...\n"
         "Prints the topology as text; --dot as Graphviz (weir describe f.ini --dot | dot -Tsvg);\n"
         "--params the reference of every key each section may hold, with the operators'\n"
         "own parameter declarations.");
    return 0;
  }
  weir_topology_t *t = weir_cli_load_topology(a.file, a.sets, a.set_count);
  if (!t)
    return 1;
  if (a.dot)
    weir_topology_print_dot(t, stdout);
  else if (a.params)
    weir_topology_print_params(t, stdout);
  else
    weir_topology_print_text(t, stdout);
  weir_topology_free(t);
  return 0;
}

int weir_cmd_plugin(int argc, char **argv) {
  char errstr[2048];
  if (argc < 2 || strcmp(argv[1], "info") != 0 || argc != 3) {
    fprintf(stderr, "usage: weir plugin info FILE.so\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  weir_plugin_t *p = weir_plugin_load_file(argv[2], argv[2], errstr, sizeof errstr);
  if (!p) {
    fprintf(stderr, "weir: error: %s\n", errstr);
    return 1;
  }
  weir_plugin_print_info(p, stdout);
  weir_plugin_close(p);
  return 0;
}

static int64_t monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* After a stop request: a second signal, or a shutdown past its bound,
 * ends the process at once rather than hanging on a broker that is gone. */
static void *watchdog(void *arg) {
  int limit_ms = *(int *)arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  /* An interrupted wait (EINTR: e.g. LeakSanitizer stopping the threads at
   * exit) is neither a signal nor the deadline: wait out what is left. */
  int64_t deadline = monotonic_ms() + limit_ms;
  int sig = -1;
  for (int64_t left = limit_ms; left > 0; left = deadline - monotonic_ms()) {
    struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
    sig = sigtimedwait(&set, NULL, &ts);
    if (sig > 0 || errno != EINTR)
      break;
  }
  if (sig > 0)
    WEIR_ERROR("second signal: exiting now; records not committed will be processed again");
  else
    WEIR_ERROR("shutdown did not finish within %d ms: exiting; records not committed will be "
               "processed again",
               limit_ms);
  _exit(1);
  return NULL;
}

static int wait_for_stop(weir_app_t *app, const sigset_t *signals) {
  struct timespec tick = {0, 200 * 1000000L};
  for (;;) {
    int sig = sigtimedwait(signals, NULL, &tick);
    if (sig == SIGHUP) {
      char report[1024];
      weir_app_reload(app, "SIGHUP", report, sizeof report);
      continue;
    }
    if (sig == SIGINT || sig == SIGTERM) {
      WEIR_INFO("received %s: stopping (drain, flush, commit)",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
      weir_app_stop(app);
      return 0;
    }
    if (weir_app_wait_stop(app, 0))
      return 0;
  }
}

static int run_topology(const weir_topology_t *t, const topo_args_t *a, const sigset_t *signals) {
  char errstr[8192];
  weir_app_options_t opts = {
      .shutdown_timeout_ms = 10000, .overrides = a->sets, .override_count = a->set_count};
  weir_app_t *app = weir_app_start(t, &opts, errstr, sizeof errstr);
  if (!app) {
    for (char *line = strtok(errstr, "\n"); line; line = strtok(NULL, "\n"))
      fprintf(stderr, "weir: error: %s\n", line);
    return 1;
  }
  WEIR_INFO("running %s as application '%s' on %s with %d thread(s)", t->path,
            t->settings.application_id, weir_app_bootstrap(app), t->settings.threads);
  weir_sd_watch_start(t->settings.threads);
  wait_for_stop(app, signals);
  weir_sd_watch_stop();
  static int limit_ms;
  limit_ms = 4 * opts.shutdown_timeout_ms + 5000;
  pthread_t dog;
  pthread_create(&dog, NULL, watchdog, &limit_ms);
  pthread_detach(dog);
  int code = weir_app_join(app);
  unsigned long long processed = weir_app_processed(app);
  weir_app_free(app);
  WEIR_INFO("stopped: %llu records processed, exit code %d", processed, code);
  return code;
}

int weir_cmd_run(int argc, char **argv) {
  topo_args_t a;
  sigset_t signals;
  if (parse_topo_args(argc, argv, &a, "run"))
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
  /* Block the stop signals in every thread; main waits for them synchronously. */
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  weir_topology_t *t = weir_cli_load_topology(a.file, a.sets, a.set_count);
  if (!t)
    return 1;
  weir_log_set_level(t->settings.log_level);
  weir_log_set_format(t->settings.log_format);
  int code = run_topology(t, &a, &signals);
  weir_topology_free(t);
  return code;
}

int weir_cmd_reload(int argc, char **argv) {
  topo_args_t a;
  char path[256], report[2048];
  if (parse_topo_args(argc, argv, &a, "reload"))
    return 2;
  if (a.help) {
    puts("usage: weir reload FILE [--set SECTION.KEY=VALUE]...\n"
         "Asks the running `weir run FILE` (found by FILE's state.dir and application.id) to\n"
         "re-read FILE and swap in new plugin builds and changed parameters while records\n"
         "flow. Prints its answer; exits 0 when the new version runs (or nothing changed), 1\n"
         "when it was refused (every task keeps the running version).");
    return 0;
  }
  weir_topology_t *t = weir_cli_load_topology(a.file, a.sets, a.set_count);
  if (!t)
    return 1;
  int bad = weir_control_socket_path(t->settings.state_dir, t->settings.application_id, path,
                                     sizeof path);
  weir_topology_free(t);
  if (bad) {
    fprintf(stderr, "weir: error: the control socket path under %s is too long\n", a.file);
    return 1;
  }
  int rc = weir_control_request(path, report, sizeof report);
  fputs(report, rc == 0 ? stdout : stderr);
  return rc;
}
