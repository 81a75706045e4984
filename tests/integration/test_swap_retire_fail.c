/* Integration: a hot swap whose retiring instance cannot flush what it held
 * back (issue 12, item 9c). The old build holds values until flush(); at
 * the swap its flush fails, so those values never reach the output. Before
 * the fix the retire only logged, the reload answered "reloaded" and the
 * next commit (the shutdown's at the latest) committed their inputs: lost. Now the reload reports
 * the failure, the app stops with exit code 1 and no input offset is committed past the lost
 * values, so a restart processes them again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "it_support.h"
#include "util/fs.h"

/* plugin.dir and state.dir, inside the test's own TMPDIR (it_tmp). */
static char dir[600];

/* Put a build in place as the plugin file: copy, then rename, as a deploy does. */
static void install(const char *fixture) {
  assert_int_equal(it_install(fixture, dir, "hold.so", ".hold.so.tmp"), 0);
}

static void send_range(const char *bootstrap, int from, int to) {
  char value[16];
  rd_kafka_t *p = it_producer(bootstrap);
  for (int i = from; i < to; i++) {
    snprintf(value, sizeof value, "%d", i);
    assert_int_equal(it_send(p, "in", 0, NULL, value, strlen(value), 1700000000000 + i, NULL, NULL),
                     0);
  }
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

static weir_topology_t *topology(weir_cfg_t **cfg, weir_diag_t *d) {
  char ini[2048], path[700];
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-retire\nbootstrap.servers = embedded\n"
           "embedded.partitions = 1\ncommit.interval.ms = 600000\nplugin.dir = %s\nstate.dir = %s\n"
           "[source:in]\ntopic = in\nvalue.serde = string\n"
           "[operator:h]\nplugin = hold\ntype = hold\ninput = in\n"
           "[sink:out]\ninput = h\ntopic = out\nvalue.serde = string\n",
           dir, dir);
  snprintf(path, sizeof path, "%s/topology.ini", dir);
  it_write_file(path, ini);
  *cfg = weir_cfg_load(path, d);
  weir_topology_t *t = weir_topology_build(*cfg, NULL, d);
  weir_diag_print(d, stderr);
  return t;
}

static void test_failed_retire_flush_fails_the_app(void **state) {
  (void)state;
  char marker[700], err[2048], report[2048];
  snprintf(dir, sizeof dir, "%s/app", it_tmp.path);
  assert_int_equal(mkdir(dir, 0700), 0);
  snprintf(marker, sizeof marker, "%s/fail-flush", dir);
  assert_int_equal(setenv("WEIR_TEST_FAIL_FLUSH", marker, 1), 0); /* read by init */
  install("hold_fail_flush");
  weir_diag_t d = {0};
  weir_cfg_t *cfg = NULL;
  weir_topology_t *t = topology(&cfg, &d);
  assert_non_null(t);
  weir_app_options_t opts = {.shutdown_timeout_ms = 5000, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  const char *bootstrap = weir_app_bootstrap(app);

  /* No commit comes in the test's time (the interval is 10 min): the
   * values stay held back until the swap, whose flush of the old build
   * fails. */
  send_range(bootstrap, 0, 5);
  assert_int_equal(it_wait_processed(app, 5, IT_WAIT_MS), 0);
  FILE *m = fopen(marker, "w");
  assert_non_null(m);
  fclose(m);
  install("hold_v1");
  int reloaded = weir_app_reload(app, "test", report, sizeof report);
  int stopped = weir_app_wait_stop(app, IT_WAIT_MS);
  int64_t committed = it_committed(bootstrap, "it-retire", "in", 0);
  weir_app_stop(app);
  int code = weir_app_join(app);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
  unsetenv("WEIR_TEST_FAIL_FLUSH");
  assert_int_equal(weir_rm_rf(dir), 0);
  it_expect_no_staging();
  it_records_free(NULL, 0); /* it_support.h's: every includer uses it */

  print_message("reload: %s\n", report);
  assert_int_equal(reloaded, -1);
  assert_non_null(strstr(report, "reload failed: version 1 runs [h], but swap: operator 'h'"));
  assert_non_null(strstr(report, "failed to flush"));
  assert_int_equal(stopped, 1);
  assert_int_equal(code, 1);
  /* Nothing committed: the five values are processed again after a restart. */
  assert_int_equal(committed, RD_KAFKA_OFFSET_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      IT_TEST(test_failed_retire_flush_fails_the_app),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
