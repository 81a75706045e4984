/* Integration: hot swap of a plugin while records flow, in-process on the
 * embedded broker (so the sanitizer build runs it too). v1 -> v2 under load,
 * then broken builds (init fails, wrong ABI, operator removed) refused with
 * v2 still running, then 100 swaps in a row. Every input must come out
 * exactly once, in order per partition, with the operator's in-memory count
 * carried across every swap (save/load), and no staged copy left behind. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "it_support.h"

enum { PARTS = 3, SWAPS = 100, BACKLOG = 500 };

static char dir[600];

/* Put a build in place as the plugin file. */
static void install(const char *fixture) {
  assert_int_equal(it_install(fixture, dir, "marker.so", ".marker.so.tmp"), 0);
}

/* Load that lasts as long as the swaps do: the feeder produces until told to
 * stop, keeping about BACKLOG records ahead of the app (so the input never
 * runs dry, whatever the machine's speed, and never piles up). */
typedef struct feeder {
  const char *bootstrap;
  weir_app_t *app;
  atomic_int stop;
  atomic_llong sent;
  int unflushed; /* records the producer could not deliver */
} feeder_t;

static void *feed(void *arg) {
  feeder_t *f = arg;
  char key[32], value[32];
  rd_kafka_t *p = it_producer(f->bootstrap);
  long long i = 0;
  while (!atomic_load(&f->stop)) {
    if (i - (long long)weir_app_processed(f->app) >= BACKLOG) {
      rd_kafka_poll(p, 1);
      continue;
    }
    snprintf(key, sizeof key, "k%lld", i);
    snprintf(value, sizeof value, "%lld", i);
    if (it_send(p, "in", (int32_t)(i % PARTS), key, value, strlen(value), 1700000000000 + i, NULL,
                NULL) != 0) {
      rd_kafka_poll(p, 10); /* queue full: let it drain */
      continue;
    }
    atomic_store(&f->sent, ++i);
    rd_kafka_poll(p, 0);
  }
  rd_kafka_flush(p, IT_WAIT_MS);
  f->unflushed = rd_kafka_outq_len(p);
  rd_kafka_destroy(p);
  return NULL;
}

static void expect_reload(weir_app_t *app, int ok, const char *needle) {
  char report[1024];
  int rc = weir_app_reload(app, "test", report, sizeof report);
  if ((rc == 0) != ok || !strstr(report, needle))
    fail_msg("reload: rc %d, report: %s (expected %s and \"%s\")", rc, report,
             ok ? "success" : "failure", needle);
}

/* A swap under load: records were still being fed and processed right
 * before it, and both went on after it. */
typedef struct load_mark {
  weir_app_t *app;
  feeder_t *feeder;
  unsigned long long processed;
  long long sent;
} load_mark_t;

static int load_moved(void *arg) {
  load_mark_t *m = arg;
  return weir_app_processed(m->app) > m->processed && atomic_load(&m->feeder->sent) > m->sent;
}

static void swap_under_load(load_mark_t *m, const char *fixture, int ok, const char *needle) {
  if (it_wait_until(load_moved, m, IT_WAIT_MS) != 0)
    fail_msg("no records flowed before swapping to %s (processed %llu, sent %lld)", fixture,
             weir_app_processed(m->app), (long long)atomic_load(&m->feeder->sent));
  install(fixture);
  expect_reload(m->app, ok, needle);
  m->processed = weir_app_processed(m->app);
  m->sent = atomic_load(&m->feeder->sent);
}

/* Every input once; per input partition, ordered by the count the operator
 * gave them, the counts run 1, 2, 3, ... (the in-memory state crossed every
 * swap) and the inputs rise (processed in order). Output partitions follow
 * the keys, so the order is read from the counts, not from the topic. */
typedef struct output_check {
  long long sent;
  unsigned char *seen;        /* [sent] */
  long long *by_count[PARTS]; /* [sent / PARTS + 2]: input by count */
  int versions[8];
  size_t bad;
  char first_bad[128];
} output_check_t;

static void check_one(const rd_kafka_message_t *m, void *arg) {
  output_check_t *c = arg;
  char value[128];
  int v = 0;
  unsigned long long count = 0;
  long long input = -1;
  snprintf(value, sizeof value, "%.*s", (int)m->len, m->payload ? (const char *)m->payload : "");
  int ok = sscanf(value, "v%d:%*[^:]:%llu:%lld", &v, &count, &input) == 3 && v >= 0 && v < 8 &&
           input >= 0 && input < c->sent && !c->seen[input]++ && count >= 1 &&
           count <= (unsigned long long)(c->sent / PARTS + 1);
  if (!ok) {
    if (!c->bad++)
      snprintf(c->first_bad, sizeof c->first_bad, "%s", value);
    return;
  }
  c->by_count[input % PARTS][count] = input;
  c->versions[v] = 1;
}

static void check_output(const char *bootstrap, output_check_t *c) {
  size_t rows = (size_t)(c->sent / PARTS + 2);
  c->seen = calloc((size_t)c->sent, 1);
  for (int p = 0; p < PARTS; p++) {
    c->by_count[p] = malloc(rows * sizeof(long long));
    memset(c->by_count[p], 0xff, rows * sizeof(long long));
  }
  size_t n = it_consume_each(bootstrap, "out", (size_t)c->sent, check_one, c, IT_WAIT_MS);
  if (c->bad)
    fail_msg("%zu bad or repeated output records, the first: %s", c->bad, c->first_bad);
  assert_int_equal(n, c->sent);
  for (int p = 0; p < PARTS; p++) {
    long long per_part = c->sent / PARTS + (p < c->sent % PARTS);
    for (long long k = 1; k <= per_part; k++) {
      assert_true(c->by_count[p][k] >= 0);
      assert_true(k == 1 || c->by_count[p][k] > c->by_count[p][k - 1]);
    }
    free(c->by_count[p]);
  }
  free(c->seen);
}

static weir_cfg_t *marker_config(weir_diag_t *d) {
  char ini[2048], path[700];
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-reload\nbootstrap.servers = embedded\n"
           "embedded.partitions = %d\ncommit.interval.ms = 200\nplugin.dir = %s\nstate.dir = %s\n"
           "[source:in]\ntopic = in\n[operator:m]\nplugin = marker\ntype = mark\ninput = in\n"
           "[sink:out]\ninput = m\ntopic = out\n"
           "[kafka]\nfetch.wait.max.ms = 10\n", /* the embedded broker holds an empty
                                                  fetch this long, even as records come */
           PARTS, dir, dir);
  snprintf(path, sizeof path, "%s/topology.ini", dir);
  it_write_file(path, ini);
  return weir_cfg_load(path, d);
}

static void test_swaps_under_load(void **state) {
  (void)state;
  char err[2048];
  snprintf(dir, sizeof dir, "%s/plugins", it_tmp.path);
  assert_int_equal(mkdir(dir, 0700), 0);
  install("reload_v1");
  weir_diag_t d = {0};
  weir_cfg_t *cfg = marker_config(&d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_app_options_t opts = {.shutdown_timeout_ms = IT_WAIT_MS, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);

  feeder_t feeder = {.bootstrap = weir_app_bootstrap(app), .app = app};
  pthread_t tid;
  assert_int_equal(pthread_create(&tid, NULL, feed, &feeder), 0);
  load_mark_t mark = {.app = app, .feeder = &feeder};
  swap_under_load(&mark, "reload_v2", 1, "reloaded: version 1 runs [m]");
  swap_under_load(&mark, "reload_v3_init_fails", 0, "refuses to start (MARK_INIT_FAILS)");
  swap_under_load(&mark, "abi_major2", 0, "weir ABI 2.0");
  swap_under_load(&mark, "reload_v4_no_mark", 0, "has no operator type 'mark'");
  for (int i = 0; i < SWAPS; i++)
    swap_under_load(&mark, i % 2 ? "reload_v2" : "reload_v1", 1, "reloaded: version");
  /* The staging this test checks is where it looks: in its TMPDIR. */
  char staging[700];
  assert_true(it_tmpdir_weir_entry(&it_tmp, staging, sizeof staging));
  /* The last swap, too, is followed by records. */
  assert_int_equal(it_wait_until(load_moved, &mark, IT_WAIT_MS), 0);
  atomic_store(&feeder.stop, 1);
  pthread_join(tid, NULL);
  assert_int_equal(feeder.unflushed, 0);

  output_check_t c = {.sent = atomic_load(&feeder.sent)};
  fprintf(stderr, "it: %d swaps under a load of %lld records\n", SWAPS + 4, c.sent);
  check_output(weir_app_bootstrap(app), &c);
  assert_true(c.versions[1] && c.versions[2]);
  assert_false(c.versions[3] || c.versions[4]);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  it_expect_no_staging(); /* every staged copy gone, and its directory */
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static const char filter_ini[] =
    "[weir]\napplication.id = it-reparam\nbootstrap.servers = embedded\n"
    "embedded.partitions = 1\ncommit.interval.ms = 100\nstate.dir = %s\n"
    "[source:in]\ntopic = in\nvalue.serde = string\n"
    "[operator:f]\nplugin = std\ntype = filter\ninput = in\npattern = %s\n"
    "[sink:out]\ninput = f\ntopic = out\n%s";

/* A changed parameter re-inits the operator with the new value; a value
 * that does not validate, or a new node, is refused and the running
 * version goes on. */
static void test_parameters_reload(void **state) {
  (void)state;
  char ini[2048], path[600], err[2048];
  it_record_t got[8];
  snprintf(path, sizeof path, "%s/t.ini", it_tmp.path);
  snprintf(ini, sizeof ini, filter_ini, it_tmp.path, "^a", "");
  it_write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  char set[700];
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  assert_non_null(t);
  char *sets[] = {set};
  weir_app_options_t opts = {
      .shutdown_timeout_ms = IT_WAIT_MS, .no_control = 1, .overrides = sets, .override_count = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  it_send(p, "in", 0, NULL, "apple", 5, 1, NULL, NULL);
  it_send(p, "in", 0, NULL, "banana", 6, 2, NULL, NULL);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  assert_int_equal(it_wait_processed(app, 2, IT_WAIT_MS), 0);

  snprintf(ini, sizeof ini, filter_ini, it_tmp.path, "^(", ""); /* not a regex */
  it_write_file(path, ini);
  expect_reload(app, 0, "t.ini:14: bad value for 'pattern' in [operator:f]");
  snprintf(ini, sizeof ini, filter_ini, it_tmp.path, "^b",
           "[sink:more]\ninput = f\ntopic = more\n");
  it_write_file(path, ini);
  expect_reload(app, 0, "restart weir to apply it");
  snprintf(ini, sizeof ini, filter_ini, it_tmp.path, "^b", "");
  it_write_file(path, ini);
  expect_reload(app, 1, "reloaded: version 1 runs [f]");
  expect_reload(app, 1, "nothing changed");

  it_send(p, "in", 0, NULL, "avocado", 7, 3, NULL, NULL);
  it_send(p, "in", 0, NULL, "blueberry", 9, 4, NULL, NULL);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  size_t n = it_consume(weir_app_bootstrap(app), "out", 2, got, 8, IT_WAIT_MS);
  assert_int_equal(n, 2);
  assert_string_equal(got[0].value, "apple");
  assert_string_equal(got[1].value, "blueberry");
  it_records_free(got, n);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
  it_expect_no_staging();
}

static const char count_ini[] =
    "[weir]\napplication.id = it-recount\nbootstrap.servers = embedded\n"
    "embedded.partitions = 1\ncommit.interval.ms = 600000\nstate.dir = %s\n"
    "[source:in]\ntopic = in\n"
    "[operator:c]\nplugin = std\ntype = count\ninput = in\nstore = s\nemit.max.pending = %d\n"
    "[store:s]\ntype = kv\n"
    "[sink:out]\ninput = c\ntopic = out\n";

/* A count that emits at commit holds its updates back; a swap flushes them
 * before the old instance closes (no commit happens here for 10 minutes),
 * and the store carries the count on. */
static void test_swap_flushes_held_updates(void **state) {
  (void)state;
  char ini[2048], path[600], err[2048], set[700];
  it_record_t got[8];
  snprintf(path, sizeof path, "%s/t.ini", it_tmp.path);
  snprintf(ini, sizeof ini, count_ini, it_tmp.path, 10000);
  it_write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  assert_non_null(t);
  char *sets[] = {set};
  weir_app_options_t opts = {
      .shutdown_timeout_ms = IT_WAIT_MS, .no_control = 1, .overrides = sets, .override_count = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  for (int i = 0; i < 10; i++)
    it_send(p, "in", 0, "a", "x", 1, 1 + i, NULL, NULL);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  assert_int_equal(it_wait_processed(app, 10, IT_WAIT_MS), 0);
  snprintf(ini, sizeof ini, count_ini, it_tmp.path, 9999);
  it_write_file(path, ini);
  expect_reload(app, 1, "reloaded: version 1 runs [c]");
  /* One record, the swap's: a count that had emitted before the swap would
   * have written to the same partition first. */
  size_t n = it_consume(weir_app_bootstrap(app), "out", 1, got, 8, IT_WAIT_MS);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].key, "a");
  assert_int_equal(got[0].value_len, 8);
  assert_int_equal((unsigned char)got[0].value[7], 10);
  it_records_free(got, n);
  for (int i = 0; i < 5; i++)
    it_send(p, "in", 0, "a", "x", 1, 20 + i, NULL, NULL);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  assert_int_equal(it_wait_processed(app, 15, IT_WAIT_MS), 0);
  weir_app_stop(app); /* the stop commits: the new instance flushes 15 */
  assert_int_equal(weir_app_join(app), 0);
  n = it_consume(weir_app_bootstrap(app), "out", 2, got, 8, IT_WAIT_MS);
  assert_int_equal(n, 2);
  assert_int_equal((unsigned char)got[1].value[7], 15);
  it_records_free(got, n);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
  it_expect_no_staging();
}

int main(void) {
  const struct CMUnitTest tests[] = {IT_TEST(test_swaps_under_load),
                                     IT_TEST(test_parameters_reload),
                                     IT_TEST(test_swap_flushes_held_updates)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
