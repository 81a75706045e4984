/* Integration: a hot swap that gives a running operator a flush(). The
 * thread started with a build that forwards at once (no flush, no store: its
 * commits wait for nothing); the new build holds values back until flush().
 * Whether a commit flushes is decided at each commit, so the held-back
 * values come out before their inputs are committed. Before the fix the
 * thread's "stateful" flag, fixed at start, never flushed them while their
 * inputs were committed: lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "it_support.h"
#include "util/fs.h"

/* The plugin, the INI file and state.dir, inside the test's own TMPDIR
 * (it_tmp, where weir stages the swap). */
static char dir[600];

/* Put a build in place as the plugin file. */
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
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
}

static int64_t wait_committed(const char *bootstrap, int64_t want) {
  long long deadline = it_now_ms() + IT_WAIT_MS;
  int64_t got;
  while ((got = it_committed(bootstrap, "it-holdback", "in", 0)) != want && it_now_ms() < deadline)
    usleep(100000);
  return got;
}

/* Every value 0..n-1 in `out`, each once. */
static void expect_output(const char *bootstrap, int n) {
  static it_record_t got[64];
  int seen[64] = {0};
  size_t count = it_consume(bootstrap, "out", (size_t)n, got, 64, IT_WAIT_MS);
  for (size_t i = 0; i < count; i++) {
    int v = atoi(got[i].value);
    assert_true(v >= 0 && v < n);
    seen[v]++;
  }
  it_records_free(got, count);
  for (int v = 0; v < n; v++)
    if (seen[v] != 1)
      fail_msg("value %d came out %d time(s) (of %zu records)", v, seen[v], count);
}

static void test_swap_adds_flush(void **state) {
  (void)state;
  char ini[1024], path[600], err[2048], report[1024];
  snprintf(dir, sizeof dir, "%s/it", it_tmp.path);
  assert_int_equal(mkdir(dir, 0700), 0);
  install("hold_v1");
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-holdback\nbootstrap.servers = embedded\n"
           "embedded.partitions = 1\ncommit.interval.ms = 200\nplugin.dir = %s\nstate.dir = %s\n"
           "[source:in]\ntopic = in\nvalue.serde = string\n"
           "[operator:h]\nplugin = hold\ntype = hold\ninput = in\n"
           "[sink:out]\ninput = h\ntopic = out\nvalue.serde = string\n",
           dir, dir);
  snprintf(path, sizeof path, "%s/topology.ini", dir);
  it_write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_app_options_t opts = {.shutdown_timeout_ms = IT_WAIT_MS, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  const char *bootstrap = weir_app_bootstrap(app);

  send_range(bootstrap, 0, 5);
  assert_int_equal(wait_committed(bootstrap, 5), 5);
  install("hold_v2");
  if (weir_app_reload(app, "test", report, sizeof report) != 0)
    fail_msg("reload: %s", report);
  send_range(bootstrap, 5, 10);
  /* Committed means flushed and acknowledged first. */
  assert_int_equal(wait_committed(bootstrap, 10), 10);
  expect_output(bootstrap, 10);

  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
  it_expect_no_staging();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      IT_TEST(test_swap_adds_flush),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
