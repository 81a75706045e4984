/* Integration: stateful topologies in-process on the embedded broker — a
 * word count through a repartition topic into a RocksDB store with a
 * changelog, a JSON group.by, and the state directory's lock. Each test
 * asserts exact counts in the output and in the changelog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_support.h"

#define BASE_TS INT64_C(1700000000000)

static char state_dir[600];

static int setup(void **state) {
  (void)state;
  if (weir_test_tmpenv_enter(&it_tmp, "weir-it") != 0)
    return -1;
  snprintf(state_dir, sizeof state_dir, "%s/state", it_tmp.path);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  weir_test_tmpenv_leave(&it_tmp);
  return 0;
}

static weir_topology_t *topology(const char *ini_fmt) {
  char ini[4096];
  snprintf(ini, sizeof ini, ini_fmt, state_dir);
  return it_topology(ini);
}

static weir_app_t *start(const weir_topology_t *t, char *err, size_t err_size) {
  weir_app_options_t opts = {.shutdown_timeout_ms = IT_WAIT_MS};
  return weir_app_start(t, &opts, err, err_size);
}

static int64_t be64(const char *v, size_t len) {
  uint64_t x = 0;
  if (len != 8)
    return -1;
  for (int i = 0; i < 8; i++)
    x = x << 8 | (unsigned char)v[i];
  return (int64_t)x;
}

typedef struct counts {
  char words[64][32];
  int64_t count[64];
  size_t n;
  int64_t sum;
} counts_t;

/* The latest int64 value per key, as a reader of a count's output keeps. */
static void latest(const it_record_t *r, size_t n, counts_t *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < c->n && strcmp(c->words[k], r[i].key) != 0)
      k++;
    if (k == c->n && c->n < 64)
      snprintf(c->words[c->n++], sizeof c->words[0], "%s", r[i].key);
    if (k < 64)
      c->count[k] = be64(r[i].value, r[i].value_len);
  }
  for (size_t k = 0; k < c->n; k++)
    c->sum += c->count[k];
}

static int64_t count_of(const counts_t *c, const char *word) {
  for (size_t k = 0; k < c->n; k++)
    if (strcmp(c->words[k], word) == 0)
      return c->count[k];
  return 0;
}

/* Read `topic` to its end until the latest counts add up to `total` (or
 * IT_WAIT_MS passes); the last read is to the end, so a count beyond
 * `total` already written shows. */
static void read_counts(const char *bootstrap, const char *topic, int64_t total, counts_t *c) {
  static it_record_t got[4096];
  long long deadline = it_now_ms() + IT_WAIT_MS;
  for (;;) {
    size_t n = it_consume(bootstrap, topic, 0, got, 4096, IT_WAIT_MS);
    latest(got, n, c);
    it_records_free(got, n);
    if (c->sum >= total || it_now_ms() >= deadline)
      break;
    usleep(50000);
  }
}

static const char wordcount_ini[] =
    "[weir]\napplication.id = it-wc\nbootstrap.servers = embedded\nembedded.partitions = 3\n"
    "commit.interval.ms = 200\nstate.dir = %s\n"
    "[source:lines]\ntopic = lines\nvalue.serde = string\n"
    "[operator:words]\nplugin = std\ntype = split\ninput = lines\nlowercase = true\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = words\ngroup.by = value\n"
    "store = word-counts\n"
    "[store:word-counts]\ntype = kv\n"
    "[sink:counts]\ninput = count\ntopic = counts\nkey.serde = string\nvalue.serde = int64\n";

/* Lines on every partition, with keys unrelated to the words: each word's
 * occurrences must meet in one task through the repartition topic. */
static void test_wordcount_through_repartition(void **state) {
  (void)state;
  static const char *const lines[] = {"the cat", "The dog", "a cat and a dog", "THE END",
                                      "cat cat cat"};
  char err[2048], key[16];
  counts_t c;
  weir_topology_t *t = topology(wordcount_ini);
  assert_non_null(t);
  weir_app_t *app = start(t, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  for (int round = 0; round < 10; round++)
    for (int i = 0; i < 5; i++) {
      snprintf(key, sizeof key, "line%d", round * 5 + i);
      assert_int_equal(it_send(p, "lines", (round + i) % 3, key, lines[i], strlen(lines[i]),
                               BASE_TS + round, NULL, NULL),
                       0);
    }
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);

  read_counts(weir_app_bootstrap(app), "counts", 140, &c);
  assert_int_equal(c.n, 6);
  assert_int_equal(count_of(&c, "the"), 30);
  assert_int_equal(count_of(&c, "cat"), 50);
  assert_int_equal(count_of(&c, "dog"), 20);
  assert_int_equal(count_of(&c, "a"), 20);
  assert_int_equal(count_of(&c, "and"), 10);
  assert_int_equal(count_of(&c, "end"), 10);
  assert_int_equal(c.sum, 140); /* no more than that, either */
  /* The changelog's latest value per key is the store's content. */
  read_counts(weir_app_bootstrap(app), "it-wc-word-counts-changelog", 140, &c);
  assert_int_equal(c.n, 6);
  assert_int_equal(c.sum, 140);
  assert_int_equal(count_of(&c, "cat"), 50);
  assert_int_equal(count_of(&c, "end"), 10);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

static const char json_ini[] =
    "[weir]\napplication.id = it-json\nbootstrap.servers = embedded\nembedded.partitions = 2\n"
    "commit.interval.ms = 200\nstate.dir = %s\n"
    "[source:orders]\ntopic = orders\nvalue.serde = json\n"
    "[operator:per-customer]\nplugin = std\ntype = count\ninput = orders\n"
    "group.by = json:customer.id\nstore = orders-per-customer\n"
    "[store:orders-per-customer]\ntype = kv\nchangelog = false\n"
    "[sink:out]\ninput = per-customer\ntopic = out\nvalue.serde = int64\n";

/* group.by = json:PATH keys by a nested member; a record without it is
 * dropped (as Kafka Streams drops null keys); changelog = false creates no
 * changelog topic. */
static void test_group_by_json_member(void **state) {
  (void)state;
  static const char *const orders[] = {
      "{\"customer\":{\"id\":\"c1\"},\"total\":3}", "{\"customer\":{\"id\":\"c2\"}}",
      "{\"customer\":{\"id\":\"c1\"},\"x\":[1,{\"id\":9}]}", "{\"other\":1}"};
  char err[2048];
  counts_t c;
  weir_topology_t *t = topology(json_ini);
  assert_non_null(t);
  weir_app_t *app = start(t, err, sizeof err);
  if (!app)
    fail_msg("start: %s", err);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  for (int i = 0; i < 12; i++)
    assert_int_equal(it_send(p, "orders", i % 2, NULL, orders[i % 4], strlen(orders[i % 4]),
                             BASE_TS, NULL, NULL),
                     0);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  read_counts(weir_app_bootstrap(app), "out", 9, &c);
  assert_int_equal(c.n, 2);
  assert_int_equal(count_of(&c, "c1"), 6);
  assert_int_equal(count_of(&c, "c2"), 3);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* Two instances cannot share one state directory (the lock is an flock on
 * its own open file, so a second app in this process is refused too). */
static void test_state_dir_is_locked(void **state) {
  (void)state;
  char err[2048] = "";
  weir_topology_t *t = topology(wordcount_ini);
  assert_non_null(t);
  weir_app_t *app = start(t, err, sizeof err);
  assert_non_null(app);
  weir_app_t *second = start(t, err, sizeof err);
  assert_null(second);
  assert_non_null(strstr(err, "is in use by another process"));
  assert_non_null(strstr(err, "state.dir"));
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* A reload of a count whose INI differs only by a [weir] line and a
 * [store:counts] line, from before to after, is refused with `want`. */
static void expect_reload_refused(const char *weir_before, const char *weir_after,
                                  const char *store_before, const char *store_after,
                                  const char *want) {
  char before[1024], after[1024], path[700];
  static const char body[] =
      "[weir]\napplication.id = it-state-reload\nbootstrap.servers = embedded\nstate.dir = %s\n"
      "plugin.dir = %s\n%s"
      "[source:in]\ntopic = in\nvalue.serde = string\n"
      "[operator:count]\nplugin = std\ntype = count\ninput = in\nstore = counts\n"
      "[store:counts]\ntype = kv\n%s"
      "[sink:out]\ninput = count\ntopic = out\nvalue.serde = int64\n";
  snprintf(path, sizeof path, "%s/topology.ini", it_tmp.path);
  snprintf(before, sizeof before, body, state_dir, WEIR_TEST_PLUGIN_DIR, weir_before, store_before);
  snprintf(after, sizeof after, body, state_dir, WEIR_TEST_PLUGIN_DIR, weir_after, store_after);
  it_expect_reload_refused(path, before, after, want);
}

/* RocksDB is written with the setting from the start: a reload that
 * changes it is refused with its name, never taken and left unapplied. */
static void test_reload_refuses_a_state_wal_change(void **state) {
  (void)state;
  expect_reload_refused("state.wal = true\n", "state.wal = false\n", "", "",
                        "reload refused: [weir] state.wal changed (true to false)");
}

/* The open tasks hold an in-memory store's rows, and RocksDB a RocksDB
 * store's: a reload that moves a store from one to the other is refused. */
static void test_reload_refuses_a_store_backend_change(void **state) {
  (void)state;
  expect_reload_refused("", "", "backend = rocksdb\n", "backend = memory\n",
                        "reload refused: [store:counts] backend changed (rocksdb to memory)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wordcount_through_repartition),
      cmocka_unit_test(test_group_by_json_member),
      cmocka_unit_test(test_state_dir_is_locked),
      cmocka_unit_test(test_reload_refuses_a_state_wal_change),
      cmocka_unit_test(test_reload_refuses_a_store_backend_change),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
