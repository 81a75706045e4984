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

enum { N = 12000, PARTS = 3 };

static char dir[] = "/tmp/weir-it-reload-XXXXXX";

/* Put a build in place as the plugin file: copy, then rename, as a deploy does. */
static void install(const char *fixture) {
  char src[512], tmp[512], dst[512], buf[65536];
  snprintf(src, sizeof src, "%s/%s.so", WEIR_TEST_FIXTURE_DIR, fixture);
  snprintf(tmp, sizeof tmp, "%s/.marker.so.tmp", dir);
  snprintf(dst, sizeof dst, "%s/marker.so", dir);
  FILE *in = fopen(src, "rb"), *out = fopen(tmp, "wb");
  assert_non_null(in);
  assert_non_null(out);
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(rename(tmp, dst), 0);
}

typedef struct feeder {
  const char *bootstrap;
  atomic_int sent;
} feeder_t;

/* A steady load: N records over the partitions, in small bursts. */
static void *feed(void *arg) {
  feeder_t *f = arg;
  char key[32], value[32];
  rd_kafka_t *p = it_producer(f->bootstrap);
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%d", i);
    snprintf(value, sizeof value, "%d", i);
    it_send(p, "in", i % PARTS, key, value, strlen(value), 1700000000000 + i, NULL, NULL);
    atomic_store(&f->sent, i + 1);
    if (i % 100 == 99) {
      rd_kafka_poll(p, 0);
      usleep(5000);
    }
  }
  rd_kafka_flush(p, 10000);
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

/* Every input once; per input partition, ordered by the count the operator
 * gave them, the counts run 1, 2, 3, ... (the in-memory state crossed every
 * swap) and the inputs rise (processed in order). Output partitions follow
 * the keys, so the order is read from the counts, not from the topic. */
static long long by_count[PARTS][N / PARTS + 2];

static void check_output(const char *bootstrap, int *versions_seen) {
  static it_record_t got[N + 100];
  static unsigned char seen[N];
  size_t n = it_consume(bootstrap, "out", N, got, N + 100, 60000);
  assert_int_equal(n, N);
  memset(seen, 0, sizeof seen);
  memset(by_count, 0xff, sizeof by_count);
  for (size_t i = 0; i < n; i++) {
    int v = 0;
    unsigned long long count = 0;
    long long input = -1;
    assert_int_equal(sscanf(got[i].value, "v%d:%*[^:]:%llu:%lld", &v, &count, &input), 3);
    assert_true(input >= 0 && input < N);
    assert_int_equal(seen[input]++, 0);
    assert_true(count >= 1 && count <= N / PARTS);
    by_count[input % PARTS][count] = input;
    versions_seen[v] = 1;
  }
  for (int p = 0; p < PARTS; p++)
    for (long long c = 1; c <= N / PARTS; c++) {
      assert_true(by_count[p][c] >= 0);
      assert_true(c == 1 || by_count[p][c] > by_count[p][c - 1]);
    }
  it_records_free(got, n);
}

static void test_swaps_under_load(void **state) {
  (void)state;
  char ini[2048], err[2048], staged[128];
  assert_non_null(mkdtemp(dir));
  install("reload_v1");
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = it-reload\nbootstrap.servers = embedded\n"
           "embedded.partitions = %d\ncommit.interval.ms = 200\nplugin.dir = %s\nstate.dir = %s\n"
           "[source:in]\ntopic = in\n[operator:m]\nplugin = marker\ntype = mark\ninput = in\n"
           "[sink:out]\ninput = m\ntopic = out\n",
           PARTS, dir, dir);
  weir_cfg_t *cfg = NULL;
  weir_diag_t d = {0};
  char path[600];
  snprintf(path, sizeof path, "%s/topology.ini", dir);
  FILE *f = fopen(path, "w");
  fputs(ini, f);
  fclose(f);
  cfg = weir_cfg_load(path, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_app_options_t opts = {.shutdown_timeout_ms = 5000, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);

  feeder_t feeder = {.bootstrap = weir_app_bootstrap(app)};
  pthread_t tid;
  pthread_create(&tid, NULL, feed, &feeder);
  assert_int_equal(it_wait_processed(app, 1000, 30000), 0);
  install("reload_v2");
  expect_reload(app, 1, "reloaded: version 1 runs [m]");
  install("reload_v3_init_fails");
  expect_reload(app, 0, "refuses to start (MARK_INIT_FAILS)");
  install("abi_major2");
  expect_reload(app, 0, "weir ABI 2.0");
  install("reload_v4_no_mark");
  expect_reload(app, 0, "has no operator type 'mark'");
  for (int i = 0; i < 100; i++) {
    install(i % 2 ? "reload_v2" : "reload_v1");
    expect_reload(app, 1, "reloaded: version");
  }
  pthread_join(tid, NULL);

  int versions[8] = {0};
  check_output(weir_app_bootstrap(app), versions);
  assert_true(versions[1] && versions[2]);
  assert_false(versions[3] || versions[4]);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  snprintf(staged, sizeof staged, "/tmp/weir-%d-staged", (int)getpid());
  struct stat st;
  assert_int_not_equal(stat(staged, &st), 0); /* every staged copy gone, and its directory */
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
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
  char ini[2048], path[600], err[2048], tmp[] = "/tmp/weir-it-reparam-XXXXXX";
  it_record_t got[8];
  assert_non_null(mkdtemp(tmp));
  snprintf(path, sizeof path, "%s/t.ini", tmp);
  snprintf(ini, sizeof ini, filter_ini, tmp, "^a", "");
  write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  char set[700];
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  assert_non_null(t);
  char *sets[] = {set};
  weir_app_options_t opts = {
      .shutdown_timeout_ms = 5000, .no_control = 1, .overrides = sets, .override_count = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  it_send(p, "in", 0, NULL, "apple", 5, 1, NULL, NULL);
  it_send(p, "in", 0, NULL, "banana", 6, 2, NULL, NULL);
  rd_kafka_flush(p, 5000);
  assert_int_equal(it_wait_processed(app, 2, 20000), 0);

  snprintf(ini, sizeof ini, filter_ini, tmp, "^(", ""); /* not a regex */
  write_file(path, ini);
  expect_reload(app, 0, "t.ini:14: bad value for 'pattern' in [operator:f]");
  snprintf(ini, sizeof ini, filter_ini, tmp, "^b", "[sink:more]\ninput = f\ntopic = more\n");
  write_file(path, ini);
  expect_reload(app, 0, "restart weir to apply it");
  snprintf(ini, sizeof ini, filter_ini, tmp, "^b", "");
  write_file(path, ini);
  expect_reload(app, 1, "reloaded: version 1 runs [f]");
  expect_reload(app, 1, "nothing changed");

  it_send(p, "in", 0, NULL, "avocado", 7, 3, NULL, NULL);
  it_send(p, "in", 0, NULL, "blueberry", 9, 4, NULL, NULL);
  rd_kafka_flush(p, 5000);
  rd_kafka_destroy(p);
  size_t n = it_consume(weir_app_bootstrap(app), "out", 2, got, 8, 20000);
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
  char ini[2048], path[600], err[2048], set[700], tmp[] = "/tmp/weir-it-recount-XXXXXX";
  it_record_t got[8];
  assert_non_null(mkdtemp(tmp));
  snprintf(path, sizeof path, "%s/t.ini", tmp);
  snprintf(ini, sizeof ini, count_ini, tmp, 10000);
  write_file(path, ini);
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, &d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, &d);
  assert_non_null(t);
  char *sets[] = {set};
  weir_app_options_t opts = {
      .shutdown_timeout_ms = 5000, .no_control = 1, .overrides = sets, .override_count = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  for (int i = 0; i < 10; i++)
    it_send(p, "in", 0, "a", "x", 1, 1 + i, NULL, NULL);
  rd_kafka_flush(p, 5000);
  assert_int_equal(it_wait_processed(app, 10, 20000), 0);
  assert_int_equal(it_consume(weir_app_bootstrap(app), "out", 1, got, 8, 1500), 0);
  snprintf(ini, sizeof ini, count_ini, tmp, 9999);
  write_file(path, ini);
  expect_reload(app, 1, "reloaded: version 1 runs [c]");
  size_t n = it_consume(weir_app_bootstrap(app), "out", 1, got, 8, 10000);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].key, "a");
  assert_int_equal(got[0].value_len, 8);
  assert_int_equal((unsigned char)got[0].value[7], 10);
  it_records_free(got, n);
  for (int i = 0; i < 5; i++)
    it_send(p, "in", 0, "a", "x", 1, 20 + i, NULL, NULL);
  rd_kafka_flush(p, 5000);
  rd_kafka_destroy(p);
  assert_int_equal(it_wait_processed(app, 15, 20000), 0);
  weir_app_stop(app); /* the stop commits: the new instance flushes 15 */
  assert_int_equal(weir_app_join(app), 0);
  n = it_consume(weir_app_bootstrap(app), "out", 2, got, 8, 10000);
  assert_int_equal(n, 2);
  assert_int_equal((unsigned char)got[1].value[7], 15);
  it_records_free(got, n);
  weir_app_free(app);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_swaps_under_load),
                                     cmocka_unit_test(test_parameters_reload),
                                     cmocka_unit_test(test_swap_flushes_held_updates)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
