/* libweir 1.1's tools through the public header only (weir/runtime.h):
 * validate, describe, describe a plugin, ask a running runtime to reload,
 * print a value, the development broker, and a stop seen as it begins. The
 * weir command is made of these calls; tests/cli checks its output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <weir/runtime.h>

static const char filter_ini[] = "[weir]\n"
                                 "application.id = tools\n"
                                 "bootstrap.servers = embedded\n"
                                 "[source:in]\n"
                                 "topic = in\n"
                                 "[operator:keep]\n"
                                 "plugin = std\n"
                                 "type = filter\n"
                                 "input = in\n"
                                 "pattern = ^a\n"
                                 "[sink:out]\n"
                                 "input = keep\n"
                                 "topic = out\n";

typedef struct fixture {
  char dir[64], ini[128], state_set[160];
  const char *sets[3];
  weir_runtime_options_t opts;
} fixture_t;

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/weir-runtime-tools.XXXXXX");
  if (!f || !mkdtemp(f->dir))
    return -1;
  snprintf(f->ini, sizeof f->ini, "%s/t.ini", f->dir);
  write_file(f->ini, filter_ini);
  snprintf(f->state_set, sizeof f->state_set, "weir.state.dir=%s/state", f->dir);
  f->sets[0] = "weir.plugin.dir=" WEIR_TEST_PLUGIN_DIR;
  f->sets[1] = f->state_set;
  f->opts = (weir_runtime_options_t){
      .struct_size = sizeof f->opts, .overrides = f->sets, .override_count = 2};
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

/* What `fn` wrote to a FILE, as a string (freed by the caller). */
typedef struct capture {
  char *text;
  size_t len;
  FILE *out;
} capture_t;

static FILE *capture_open(capture_t *c) {
  memset(c, 0, sizeof *c);
  c->out = open_memstream(&c->text, &c->len);
  assert_non_null(c->out);
  return c->out;
}

static char *capture_close(capture_t *c) {
  fclose(c->out);
  return c->text;
}

static void test_validate(void **state) {
  fixture_t *f = *state;
  char err[4096], want[256];
  capture_t c;
  assert_int_equal(weir_runtime_validate_file(f->ini, &f->opts, capture_open(&c), err, sizeof err),
                   0);
  char *out = capture_close(&c);
  snprintf(want, sizeof want, "%s: valid (1 source, 1 operator, 1 sink; 1 plugin)\n", f->ini);
  assert_string_equal(out, want);
  free(out);
  /* Every error, each with its file:line. */
  snprintf(want, sizeof want, "%s/bad.ini", f->dir);
  write_file(want, "[weir]\napplication.id = x\nbootstrap.servers = embedded\nthreads = lots\n"
                   "[source:in]\ntopik = in\n");
  assert_int_equal(weir_runtime_validate_file(want, &f->opts, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "bad.ini:4: bad value for 'threads'"));
  assert_non_null(strstr(err, "\n"));
  assert_non_null(strstr(err, "bad.ini:6: unknown key 'topik'"));
  /* Each operator's init runs: a branch to a child it does not have. */
  const char *sets[] = {f->sets[0]};
  weir_runtime_options_t o = {.struct_size = sizeof o, .overrides = sets, .override_count = 1};
  assert_int_equal(weir_runtime_validate_file(WEIR_TEST_SOURCE_DIR "/tests/cli/bad_route.ini", &o,
                                              NULL, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "operator 'route'"));
  assert_non_null(strstr(err, "failed to start"));
  assert_int_equal(weir_runtime_validate_file(NULL, &o, NULL, err, sizeof err), -1);
}

static void test_describe(void **state) {
  fixture_t *f = *state;
  static const struct {
    weir_runtime_describe_format_t format;
    const char *want;
  } cases[] = {{WEIR_RUNTIME_DESCRIBE_TEXT, "threads                 = 3"},
               {WEIR_RUNTIME_DESCRIBE_DOT, "digraph \"tools\""},
               {WEIR_RUNTIME_DESCRIBE_PARAMS, "[operator:NAME]"}};
  char err[4096];
  const char *sets[] = {f->sets[0], "weir.threads=3"};
  weir_runtime_options_t o = {.struct_size = sizeof o, .overrides = sets, .override_count = 2};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    capture_t c;
    int rc =
        weir_runtime_describe_file(f->ini, &o, cases[i].format, capture_open(&c), err, sizeof err);
    char *out = capture_close(&c);
    assert_int_equal(rc, 0);
    if (!strstr(out, cases[i].want))
      fail_msg("format %d: no '%s' in:\n%s", (int)cases[i].format, cases[i].want, out);
    free(out);
  }
  assert_int_equal(weir_runtime_describe_file(f->ini, &o, (weir_runtime_describe_format_t)7, stdout,
                                              err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "unknown format"));
  assert_int_equal(weir_runtime_describe_file("/nonexistent/t.ini", &o, WEIR_RUNTIME_DESCRIBE_TEXT,
                                              stdout, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "/nonexistent/t.ini"));
}

static void test_describe_plugin(void **state) {
  char err[2048];
  capture_t c;
  assert_int_equal(weir_runtime_describe_plugin(WEIR_TEST_PLUGIN_DIR "/std.so", capture_open(&c),
                                                err, sizeof err),
                   0);
  char *out = capture_close(&c);
  assert_non_null(strstr(out, "operator filter"));
  free(out);
  assert_int_equal(weir_runtime_describe_plugin("/nonexistent/nope.so", stdout, err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "/nonexistent/nope.so does not exist"));
}

static int trigger_logged;

static void on_log(void *user, int level, const char *thread, const char *task, const char *node,
                   const char *message) {
  if (strstr(message, "nothing changed") && strstr(message, "(by-the-test)"))
    __atomic_store_n(&trigger_logged, 1, __ATOMIC_RELAXED);
}

/* The control socket a runtime from a file answers, asked by path; and a
 * reload in-process logged with what asked for it. */
static void test_request_reload(void **state) {
  fixture_t *f = *state;
  char err[4096], report[1024];
  weir_runtime_options_t o = f->opts;
  o.log = on_log;
  weir_runtime_t *rt = weir_runtime_start_file(f->ini, &o, err, sizeof err);
  if (!rt)
    fail_msg("start: %s", err);
  assert_int_equal(weir_runtime_reload_from(rt, "by-the-test", report, sizeof report), 0);
  assert_int_equal(__atomic_load_n(&trigger_logged, __ATOMIC_RELAXED), 1);
  int rc = weir_runtime_request_reload(f->ini, &f->opts, report, sizeof report);
  if (rc != 0 || !strstr(report, "nothing changed"))
    fail_msg("request_reload: %d %s", rc, report);
  assert_int_equal(weir_runtime_free(rt), 0);
  /* Nobody answers now. */
  assert_int_equal(weir_runtime_request_reload(f->ini, &f->opts, report, sizeof report), 1);
  assert_true(strlen(report) > 0);
  assert_int_equal(
      weir_runtime_request_reload("/nonexistent/t.ini", &f->opts, report, sizeof report), -1);
  assert_non_null(strstr(report, "/nonexistent/t.ini"));
}

static void test_print_value(void **state) {
  (void)state;
  const unsigned char forty_two[8] = {0, 0, 0, 0, 0, 0, 0, 42};
  capture_t c;
  FILE *out = capture_open(&c);
  assert_int_equal(weir_runtime_print_value("int64", forty_two, 8, out), 0);
  fputc(' ', out);
  assert_int_equal(weir_runtime_print_value("string", "a\tb", 3, out), 0);
  fputc(' ', out);
  assert_int_equal(weir_runtime_print_value("bytes", NULL, 0, out), 0);
  assert_int_equal(weir_runtime_print_value("int32", forty_two, 8, out), -1);
  assert_int_equal(weir_runtime_print_value("json", NULL, 0, NULL), 0);
  char *text = capture_close(&c);
  assert_string_equal(text, "42 a\\tb null");
  free(text);
}

static unsigned long long processed(weir_runtime_t *rt, int *stopping) {
  weir_runtime_state_t st = {.struct_size = sizeof st};
  assert_int_equal(weir_runtime_state(rt, &st), 0);
  if (stopping)
    *stopping = st.stopping;
  return st.records_processed;
}

/* A program's own test broker, a runtime on it, and the stop as it begins. */
static void test_broker(void **state) {
  fixture_t *f = *state;
  char err[4096], set[300];
  assert_null(weir_broker_start(0, err, sizeof err));
  assert_non_null(strstr(err, "1..32"));
  weir_broker_t *b = weir_broker_start(1, err, sizeof err);
  if (!b)
    fail_msg("broker: %s", err);
  assert_int_equal(strncmp(weir_broker_address(b), "127.0.0.1:", 10), 0);
  assert_int_equal(weir_broker_create_topic(b, "in", 2, err, sizeof err), 0);
  assert_int_equal(weir_broker_create_topic(b, "out", 2, err, sizeof err), 0);
  assert_int_equal(weir_broker_create_topic(b, NULL, 2, err, sizeof err), -1);
  snprintf(set, sizeof set, "weir.bootstrap.servers=%s", weir_broker_address(b));
  const char *sets[] = {f->sets[0], f->sets[1], set};
  weir_runtime_options_t o = {.struct_size = sizeof o, .overrides = sets, .override_count = 3};
  weir_runtime_t *rt = weir_runtime_start_file(f->ini, &o, err, sizeof err);
  if (!rt)
    fail_msg("start on the broker: %s", err);
  int stopping = -1;
  processed(rt, &stopping);
  assert_int_equal(stopping, 0);
  weir_runtime_stop(rt);
  processed(rt, &stopping);
  assert_int_equal(stopping, 1); /* before the threads have ended */
  int stopped = 0;
  for (int i = 0; i < 600 && !stopped; i++) /* bounded steps of 100 ms: 60 s */
    stopped = weir_runtime_wait(rt, 100);
  assert_int_equal(stopped, 1);
  assert_int_equal(weir_runtime_free(rt), 0);
  weir_broker_stop(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
      cmocka_unit_test(test_describe_plugin),
      cmocka_unit_test_setup_teardown(test_request_reload, setup, teardown),
      cmocka_unit_test(test_print_value),
      cmocka_unit_test_setup_teardown(test_broker, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
