/* libweir through its public header only (weir/runtime.h), on the embedded
 * broker: a runtime from a file reloads (nothing changed), reports its
 * state, stops cleanly; errors come back as file:line lines. */
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

static const char topology[] = "[weir]\n"
                               "application.id = runtime-lib\n"
                               "bootstrap.servers = embedded\n"
                               "[source:in]\n"
                               "topic = in\n"
                               "[sink:out]\n"
                               "input = in\n"
                               "topic = out\n";

static void test_file_runtime(void **state) {
  (void)state;
  char dir[] = "/tmp/weir-runtime-lib.XXXXXX", path[256], set[300], err[4096], report[1024];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/t.ini", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(topology, f);
  fclose(f);
  snprintf(set, sizeof set, "weir.state.dir=%s/state", dir);
  const char *sets[] = {set};
  weir_runtime_options_t opts = {
      .struct_size = sizeof opts, .overrides = sets, .override_count = 1};
  weir_runtime_t *rt = weir_runtime_start_file(path, &opts, err, sizeof err);
  if (!rt)
    fail_msg("start: %s", err);
  weir_runtime_state_t st = {.struct_size = sizeof st};
  assert_int_equal(weir_runtime_state(rt, &st), 0);
  assert_int_equal(st.status, WEIR_RUNTIME_RUNNING);
  assert_int_equal(st.exit_code, -1);
  assert_int_equal(weir_runtime_wait(rt, 0), 0);
  assert_int_equal(weir_runtime_reload(rt, report, sizeof report), 0);
  assert_non_null(strstr(report, "nothing changed"));
  weir_runtime_stop(rt);
  assert_int_equal(weir_runtime_wait(rt, -1), 1);
  assert_int_equal(weir_runtime_state(rt, &st), 0);
  assert_int_equal(st.status, WEIR_RUNTIME_STOPPED);
  assert_int_equal(st.exit_code, 0);
  assert_int_equal(weir_runtime_free(rt), 0);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_errors_are_lines(void **state) {
  (void)state;
  char err[4096];
  weir_runtime_options_t opts = {.struct_size = sizeof opts};
  assert_null(weir_runtime_start_text("bad.ini", "[weir]\napplication.id = x\nthreads = lots\n",
                                      &opts, err, sizeof err));
  assert_non_null(strstr(err, "bad.ini:3: bad value for 'threads'"));
  assert_null(weir_runtime_start_file("/nonexistent/t.ini", &opts, err, sizeof err));
  assert_non_null(strstr(err, "/nonexistent/t.ini"));
  const char *sets[] = {"weir.threads=0"};
  opts.overrides = sets;
  opts.override_count = 1;
  assert_null(weir_runtime_start_text("t.ini", topology, &opts, err, sizeof err));
  assert_non_null(strstr(err, "--set: bad value for 'threads'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_file_runtime),
      cmocka_unit_test(test_errors_are_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
