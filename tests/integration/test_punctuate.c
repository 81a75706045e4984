/* Integration: a wall-clock punctuator on the embedded broker forwards
 * while no record arrives, and what it forwards and writes to its store is
 * committed: after a stop, the sink holds exactly the ticks 1..N where N is
 * the count its store's changelog last received (outputs and store changes
 * of a punctuation go out together at each commit, nothing lost, nothing
 * twice). The operator is tests/fixtures/timer_ops.c's ticker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_support.h"

static const char ini_fmt[] =
    "[weir]\napplication.id = it-ticks\nbootstrap.servers = embedded\n"
    "commit.interval.ms = 100\nembedded.partitions = 1\n"
    "[source:in]\ntopic = in\nvalue.serde = string\n"
    "[operator:tick]\nplugin = %s/timer_ops.so\ntype = ticker\ninput = in\n"
    "domain = wall\ninterval = 50\nstore = ticks\n"
    "[store:ticks]\ntype = kv\n"
    "[sink:out]\ninput = tick\ntopic = out\nkey.serde = string\nvalue.serde = string\n";

enum { WANT = 5, CAP = 4096 };

static void test_wall_clock_punctuator_commits(void **state) {
  (void)state;
  char ini[2048];
  static it_record_t got[CAP], log[CAP];
  snprintf(ini, sizeof ini, ini_fmt, WEIR_TEST_FIXTURE_DIR);
  weir_topology_t *t = it_topology_in(ini, it_tmp.path);
  assert_non_null(t);
  weir_app_t *app = it_start(t, IT_WAIT_MS);
  char bootstrap[256];
  snprintf(bootstrap, sizeof bootstrap, "%s", weir_app_bootstrap(app));

  /* One record creates the topic and its task; then nothing more arrives. */
  rd_kafka_t *p = it_producer(bootstrap);
  assert_int_equal(it_send(p, "in", 0, "k", "v", 1, 1700000000000, NULL, NULL), 0);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  assert_int_equal(it_wait_committed(bootstrap, "it-ticks", "in", 1, IT_WAIT_MS), 1);
  /* The record passed through, then ticks keep coming with no input. */
  size_t n = it_consume(bootstrap, "out", 1 + WANT, got, CAP, IT_WAIT_MS);
  assert_true(n >= 1 + WANT);
  it_records_free(got, n);

  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0); /* the final commit; the broker still runs */

  /* The last count the store's changelog received, after the final commit. */
  size_t logged = it_consume(bootstrap, "it-ticks-ticks-changelog", 1, log, CAP, IT_WAIT_MS);
  assert_true(logged >= 1);
  int64_t last = 0, before = 0;
  for (size_t i = 0; i < logged; i++) { /* the write cache keeps one change per commit */
    assert_int_equal(log[i].value_len, sizeof last);
    memcpy(&last, log[i].value, sizeof last);
    assert_true(last > before);
    before = last;
  }
  assert_true(last >= WANT);
  it_records_free(log, logged);

  /* The sink: the input's record (before or after the first ticks: the
   * timer runs from the task's start), then ticks #1..#last in order, each
   * once, each stamped with its punctuation time (which its value names). */
  n = it_consume(bootstrap, "out", 1, got, CAP, IT_WAIT_MS); /* 1: then all up to the end */
  assert_int_equal(n, (size_t)last + 1);
  long long ticks = 0, previous = 0;
  for (size_t i = 0; i < n; i++) {
    long long timer, when, count;
    if (strcmp(got[i].key, "k") == 0) {
      assert_string_equal(got[i].value, "v");
      continue;
    }
    assert_string_equal(got[i].key, "tick");
    assert_int_equal(sscanf(got[i].value, "%lld@%lld#%lld", &timer, &when, &count), 3);
    assert_int_equal(timer, 1);
    assert_int_equal(count, ++ticks);
    assert_int_equal(got[i].timestamp, when);
    assert_true(when > previous);
    previous = when;
  }
  assert_int_equal(ticks, last);
  it_records_free(got, n);
  weir_app_free(app);
  weir_topology_free(t);
}

/* Start with the source's `before` lines, rewrite them as `after` and
 * reload: refused with the node named and "timestamp" said. */
static void expect_reload_refused(const char *before, const char *after) {
  char ini[2048], path[600], report[1024];
  static const char body[] = "[weir]\napplication.id = it-ts-reload\nbootstrap.servers = embedded\n"
                             "state.dir = %s\nplugin.dir = %s\n"
                             "[source:in]\ntopic = in\nvalue.serde = json\n%s"
                             "[sink:out]\ninput = in\ntopic = out\nvalue.serde = json\n";
  snprintf(path, sizeof path, "%s/topology.ini", it_tmp.path);
  snprintf(ini, sizeof ini, body, it_tmp.path, WEIR_TEST_FIXTURE_DIR, before);
  it_write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_app_t *app = it_start(t, IT_WAIT_MS);
  snprintf(ini, sizeof ini, body, it_tmp.path, WEIR_TEST_FIXTURE_DIR, after);
  it_write_file(path, ini);
  assert_int_not_equal(weir_app_reload(app, "test", report, sizeof report), 0);
  if (!strstr(report, "reload refused: node 'in' changed") || !strstr(report, "timestamp"))
    fail_msg("report: %s", report);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

/* A reload cannot swap a source's timestamp extractor: changing
 * `timestamp =` is refused with the node named (before, the reload said
 * "nothing changed" and kept reading the old event time). */
static void test_reload_refuses_timestamp_change(void **state) {
  (void)state;
  expect_reload_refused("", "timestamp = json:t\n");
}

/* Nor its parameters: before, a new `offset` was accepted ("nothing
 * changed") and never applied — a setting taken and not implemented. */
static void test_reload_refuses_extractor_params_change(void **state) {
  (void)state;
  expect_reload_refused("timestamp = extractor:timer_ops.ts-from-key\noffset = 0\n",
                        "timestamp = extractor:timer_ops.ts-from-key\noffset = 5\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      IT_TEST(test_wall_clock_punctuator_commits),
      IT_TEST(test_reload_refuses_timestamp_change),
      IT_TEST(test_reload_refuses_extractor_params_change),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
