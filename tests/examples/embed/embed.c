/* embed — weir as a library: a program that runs a topology with one
 * operator linked into itself (no .so) beside the std plugin's.
 *
 *   embed BOOTSTRAP COUNT STATE_DIR
 *
 * Reads topic "in", upper-cases each value with its own "shout" operator,
 * filters with std's filter, writes topic "out"; stops once COUNT records
 * were processed (or after 60 s) and prints its final state. Built in the
 * weir tree and, from the installed libweir-dev, out of tree:
 *   cc embed.c $(pkg-config --cflags --libs weir)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <weir/runtime.h>
#include <weir/weir.h>

/* ------------------------------------------------ the linked-in operator */

static int shout_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  char buf[256];
  size_t n = rec->value_len < sizeof buf ? rec->value_len : sizeof buf;
  const char *v = rec->value;
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i]);
  weir_record_t out = *rec;
  out.value = buf;
  out.value_len = n;
  return weir_forward(ctx, &out);
}

static int shout_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  *self = NULL;
  return WEIR_OK;
}

static const weir_param_def_t shout_params[] = {WEIR_PARAM_END};

static const weir_operator_def_t shout_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "shout",
    .doc = "Upper-case the value",
    .params = shout_params,
    .init = shout_init,
    .process = shout_process,
};

WEIR_STATIC_PLUGIN(embed_plugin, "embedded-ops", "1.0.0", "operators linked into embed", &shout_op)

/* ------------------------------------------------ the program */

static const char topology[] = "[weir]\n"
                               "application.id = embed-example\n"
                               "bootstrap.servers = set-below\n"
                               "\n"
                               "[source:in]\n"
                               "topic = in\n"
                               "\n"
                               "[operator:shout]\n"
                               "plugin = embedded-ops\n"
                               "type = shout\n"
                               "input = in\n"
                               "\n"
                               "[operator:keep]\n"
                               "plugin = std\n"
                               "type = filter\n"
                               "input = shout\n"
                               "pattern = ^[A-Z ]+$\n"
                               "\n"
                               "[sink:out]\n"
                               "input = keep\n"
                               "topic = out\n";

static int log_lines;

/* weir's log events, counted, and printed with our own prefix. */
static void on_log(void *user, int level, const char *thread, const char *task, const char *node,
                   const char *message) {
  __atomic_add_fetch(&log_lines, 1, __ATOMIC_RELAXED);
  fprintf(stderr, "embed: weir log [%s] %s\n", thread, message);
}

static unsigned long long processed(weir_runtime_t *rt) {
  weir_runtime_state_t st = {.struct_size = sizeof st};
  weir_runtime_state(rt, &st);
  return st.records_processed;
}

int main(int argc, char **argv) {
  char err[4096], bootstrap[512], state_dir[512];
  if (argc != 4) {
    fprintf(stderr, "usage: embed BOOTSTRAP COUNT STATE_DIR\n");
    return 2;
  }
  unsigned long long want = strtoull(argv[2], NULL, 10);
  if (weir_runtime_register_plugin(embed_plugin, err, sizeof err)) {
    fprintf(stderr, "embed: %s\n", err);
    return 1;
  }
  snprintf(bootstrap, sizeof bootstrap, "weir.bootstrap.servers=%s", argv[1]);
  snprintf(state_dir, sizeof state_dir, "weir.state.dir=%s", argv[3]);
  const char *sets[] = {bootstrap, state_dir};
  weir_runtime_options_t opts = {.struct_size = sizeof opts,
                                 .overrides = sets,
                                 .override_count = 2,
                                 .use_environment = 1, /* WEIR_WEIR__PLUGIN_DIR, ... */
                                 .log = on_log};
  weir_runtime_t *rt = weir_runtime_start_text("embed.ini", topology, &opts, err, sizeof err);
  if (!rt) {
    fprintf(stderr, "embed: cannot start: %s\n", err);
    return 1;
  }
  struct timespec tick = {0, 50 * 1000000L};
  for (int i = 0; i < 1200 && processed(rt) < want; i++)
    nanosleep(&tick, NULL); /* polls an observable count, bounded at 60 s */
  char report[512];
  if (weir_runtime_reload(rt, report, sizeof report) == 0)
    fprintf(stderr, "embed: a runtime started from text reloaded: %s\n", report);
  else
    printf("embed: %s\n", report);
  weir_runtime_stop(rt);
  weir_runtime_wait(rt, -1);
  weir_runtime_state_t st = {.struct_size = sizeof st};
  weir_runtime_state(rt, &st);
  int code = weir_runtime_free(rt);
  printf("embed: weir %s, %llu records processed, %s, exit code %d, logged through the "
         "callback: %s\n",
         weir_runtime_version(), st.records_processed,
         st.status == WEIR_RUNTIME_STOPPED ? "stopped" : "running", code,
         log_lines > 0 ? "yes" : "no");
  return code;
}
