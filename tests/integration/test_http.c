/* Integration: the HTTP server of a running word count on the embedded
 * broker — every word's count read back by key and by pages of a range,
 * /metrics' counters (processed, per node, per policy) equal to the records
 * that went in, and a
 * burst of malformed, oversized and idle connections that leaves the
 * stream's results exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_support.h"
#include "serde/serde.h"
#include "support/http_client.h"

#define LINES 60
#define BASE_TS INT64_C(1700000000000)

static const char ini_fmt[] =
    "[weir]\napplication.id = it-http\nbootstrap.servers = embedded\nembedded.partitions = 3\n"
    "commit.interval.ms = 100\nhttp.listen = 127.0.0.1:0\n"
    "[source:lines]\ntopic = lines\nvalue.serde = string\n"
    "[operator:keep]\nplugin = std\ntype = filter\ninput = lines\npattern = ^skip\n"
    "action = drop\n"
    "[operator:words]\nplugin = std\ntype = split\ninput = keep\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = words\ngroup.by = value\n"
    "store = word-counts\n"
    "[store:word-counts]\ntype = kv\nkey.serde = string\nvalue.serde = int64\n"
    "[sink:counts]\ninput = count\ntopic = counts\nkey.serde = string\nvalue.serde = int64\n";

static const char *const words[] = {"ant", "bee", "cat", "dog", "eel", "fox", "gnu"};
#define WORDS (sizeof words / sizeof words[0])

/* Line i: words[i % 7] and words[(i * 3) % 7]; every 10th line is dropped
 * by the filter ("skip ..."). expected[] gets the counts. */
static int send_lines(rd_kafka_t *p, int from, int to, int64_t *expected) {
  char line[64], key[16];
  for (int i = from; i < to; i++) {
    int skip = i % 10 == 9;
    snprintf(line, sizeof line, "%s%s %s", skip ? "skip " : "", words[i % WORDS],
             words[(i * 3) % WORDS]);
    snprintf(key, sizeof key, "l%d", i);
    if (it_send(p, "lines", i % 3, key, line, strlen(line), BASE_TS + i, NULL, NULL))
      return -1;
    if (!skip) {
      expected[i % WORDS]++;
      expected[(i * 3) % WORDS]++;
    }
  }
  rd_kafka_flush(p, IT_WAIT_MS);
  return 0;
}

typedef struct probe {
  int port;
  const int64_t *expected;
  unsigned long long processed;
} probe_t;

/* Every word's count, read by key, is the expected one. */
static int counts_match(void *arg) {
  probe_t *pr = arg;
  char path[128], want[64];
  for (size_t w = 0; w < WORDS; w++) {
    http_answer_t a;
    snprintf(path, sizeof path, "/v1/stores/word-counts/keys/%s", words[w]);
    snprintf(want, sizeof want, "\"value\":%lld,", (long long)pr->expected[w]);
    int ok = http_get(pr->port, path, NULL, &a) == 200 && strstr(a.body, want);
    http_answer_free(&a);
    if (!ok)
      return 0;
  }
  return 1;
}

/* A sample's value in a /metrics answer, or -1. */
static long long sample(const char *body, const char *name) {
  size_t n = strlen(name);
  for (const char *line = body; line && *line;
       line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, name, n) == 0 && line[n] == ' ')
      return atoll(line + n + 1);
  return -1;
}

#define BAD_LINES 2 /* not UTF-8: deserialization errors, skipped by the default policy */
#define KEPT (LINES - LINES / 10)

/* What the host counts per node and per policy: each exact. */
static int node_counts_match(const char *body) {
  static const struct {
    const char *name;
    long long want;
  } exact[] = {
      {"weir_source_records_total{source=\"lines\"}", LINES},
      {"weir_operator_records_in_total{operator=\"keep\"}", LINES},
      {"weir_operator_records_out_total{operator=\"keep\"}", KEPT},
      {"weir_operator_records_in_total{operator=\"words\"}", KEPT},
      {"weir_operator_records_out_total{operator=\"words\"}", 2 * KEPT},
      {"weir_operator_records_in_total{operator=\"count\"}", 2 * KEPT},
      {"weir_operator_errors_total{operator=\"keep\"}", 0},
      {"weir_records_deserialization_errors_total", BAD_LINES},
      {"weir_records_skipped_total", BAD_LINES},
      {"weir_records_dead_lettered_total", 0},
      {"weir_records_processing_errors_total", 0},
      {"weir_records_late_dropped_total", 0},
  };
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (sample(body, exact[i].name) != exact[i].want)
      return 0;
  /* The sampled histogram: one call in 64 timed (the first among them), every one in a bucket. */
  long long timed = sample(body, "weir_operator_process_seconds_count{operator=\"keep\"}");
  return timed >= 1 && timed <= LINES / 64 + 1 &&
         sample(body, "weir_operator_process_seconds_bucket{operator=\"keep\",le=\"+Inf\"}") ==
             timed;
}

static int metrics_match(void *arg) {
  probe_t *pr = arg;
  http_answer_t a;
  int ok = http_get(pr->port, "/metrics", NULL, &a) == 200 &&
           sample(a.body, "weir_records_processed_total") == (long long)pr->processed &&
           sample(a.body, "weir_operator_metric_total{operator=\"keep\",name=\"dropped\"}") ==
               LINES / 10 &&
           node_counts_match(a.body);
  http_answer_free(&a);
  return ok;
}

static weir_app_t *start_app(weir_topology_t **t, int *port) {
  char ini[4096], state[700];
  snprintf(state, sizeof state, "%s/state", it_tmp.path);
  snprintf(ini, sizeof ini, ini_fmt);
  *t = it_topology_in(ini, state);
  assert_non_null(*t);
  weir_app_t *app = it_start(*t, IT_WAIT_MS);
  *port = weir_app_http_port(app);
  assert_true(*port > 0);
  return app;
}

/* Every count by key and by range pages; the processed counter of /metrics
 * equals the lines plus the words that went through the repartition topic,
 * and the filter's own counter its dropped lines. */
static void test_queries_and_metrics(void **state) {
  (void)state;
  weir_topology_t *t;
  int port;
  int64_t expected[WORDS] = {0};
  weir_app_t *app = start_app(&t, &port);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  assert_int_equal(send_lines(p, 0, LINES, expected), 0);
  for (int i = 0; i < BAD_LINES; i++)
    assert_int_equal(it_send(p, "lines", i, "bad", "\xff\xfe", 2, BASE_TS, NULL, NULL), 0);
  rd_kafka_flush(p, IT_WAIT_MS);
  probe_t pr = {.port = port, .expected = expected, .processed = LINES + BAD_LINES + 2 * KEPT};
  if (it_wait_until(counts_match, &pr, IT_WAIT_MS))
    fail_msg("the counts read over HTTP never matched what was sent");
  if (it_wait_until(metrics_match, &pr, IT_WAIT_MS))
    fail_msg("/metrics never showed %llu records processed and %d dropped", pr.processed,
             LINES / 10);
  /* Pages of 2 over 3 partitions: every word once, in order. */
  char path[256], cursor[128] = "";
  size_t seen = 0;
  do {
    http_answer_t a;
    snprintf(path, sizeof path, "/v1/stores/word-counts/range?limit=2%s%s",
             cursor[0] ? "&cursor=" : "", cursor);
    assert_int_equal(http_get(port, path, NULL, &a), 200);
    for (const char *c = a.body; (c = strstr(c, "{\"key\":\"")); c++, seen++)
      assert_true(seen < WORDS && strncmp(c + 8, words[seen], 3) == 0);
    const char *nc = strstr(a.body, "\"next_cursor\":\"");
    snprintf(cursor, sizeof cursor, "%.*s", nc ? (int)strcspn(nc + 15, "\"") : 0,
             nc ? nc + 15 : "");
    http_answer_free(&a);
  } while (cursor[0]);
  assert_int_equal(seen, WORDS);
  http_answer_t a;
  /* A reload that cannot read its INI (this one came from a string) fails
   * and is counted; the store's size is RocksDB's estimate. */
  char report[512];
  assert_int_not_equal(weir_app_reload(app, "test", report, sizeof report), 0);
  assert_int_equal(http_get(port, "/metrics", NULL, &a), 200);
  assert_int_equal(sample(a.body, "weir_plugin_reload_failures_total"), 1);
  assert_int_equal(sample(a.body, "weir_plugin_reloads_total"), 0);
  assert_true(sample(a.body, "weir_state_estimated_keys") >= 0);
  assert_true(sample(a.body, "weir_store_file_bytes{store=\"word-counts\"}") >= 0);
  /* RocksDB's memory: an open memtable always holds its arena and filter. */
  long long cache = sample(a.body, "weir_state_memory_bytes{part=\"block_cache\"}");
  long long pinned = sample(a.body, "weir_state_memory_bytes{part=\"block_cache_pinned\"}");
  assert_true(cache >= 0 && pinned >= 0 && pinned <= cache);
  assert_true(sample(a.body, "weir_state_memory_bytes{part=\"memtables\"}") > 0);
  http_answer_free(&a);
  assert_int_equal(http_get(port, "/v1/stores/word-counts/keys/yak", NULL, &a), 404);
  http_answer_free(&a);
  /* An empty page is an answer, not an error (UBSan: no NULL array sorted). */
  assert_int_equal(http_get(port, "/v1/stores/word-counts/range?prefix=zz", NULL, &a), 200);
  assert_non_null(strstr(a.body, "\"rows\":[],\"next_cursor\":null"));
  http_answer_free(&a);
  assert_int_equal(http_get(port, "/ready", NULL, &a), 200);
  http_answer_free(&a);
  rd_kafka_destroy(p);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* Bad requests of every kind, and more idle connections than the server
 * takes, between two batches: the stream's counts stay exact. */
static void test_abuse_leaves_stream_untouched(void **state) {
  (void)state;
  weir_topology_t *t;
  int port, idle[100];
  int64_t expected[WORDS] = {0};
  static char big[200000];
  weir_app_t *app = start_app(&t, &port);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  assert_int_equal(send_lines(p, 0, LINES / 2, expected), 0);
  for (int i = 0; i < 100; i++)
    idle[i] = http_connect(port); /* held open, silent: beyond the limit they are refused */
  memset(big, 'A', sizeof big);
  static const char *const junk[] = {
      "\x01\x02\x03\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "DELETE /v1/stores HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v1/stores/word-counts/range?limit=-1 HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v1/stores/word-counts/keys/%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"};
  for (int i = 0; i < 70; i++)
    close(idle[i]); /* room again for the burst */
  /* A request the server waits on (an unfinished one) holds its client for
   * the 1 s bound here, not the server's 10 s idle limit: 5 rounds of 8
   * stay a burst and take seconds (20 rounds at 5 s took 205 s). */
  for (int round = 0; round < 5; round++) {
    http_answer_t a;
    for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++)
      if (http_raw(port, junk[j], strlen(junk[j]), 1000, &a) == 0)
        http_answer_free(&a);
    if (http_raw(port, big, sizeof big, 1000, &a) == 0)
      http_answer_free(&a);
  }
  for (int i = 70; i < 100; i++)
    if (idle[i] >= 0)
      close(idle[i]);
  assert_int_equal(send_lines(p, LINES / 2, LINES, expected), 0);
  probe_t pr = {.port = port, .expected = expected};
  if (it_wait_until(counts_match, &pr, IT_WAIT_MS))
    fail_msg("after the burst, the counts read over HTTP never matched what was sent");
  assert_int_equal(weir_app_processed(app), LINES + 2 * (LINES - LINES / 10));
  rd_kafka_destroy(p);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* Window and session stores answer by key and over all keys (an in-memory
 * one refuses, with a 501 that says why): rows put by
 * tests/fixtures/window_put.c, so every window is known. */
static const char window_ini_fmt[] =
    "[weir]\napplication.id = it-http-win\nbootstrap.servers = embedded\n"
    "embedded.partitions = 3\ncommit.interval.ms = 100\nhttp.listen = 127.0.0.1:0\n"
    "[source:ev]\ntopic = ev\nkey.serde = string\nvalue.serde = int64\n"
    "[operator:wput]\nplugin = %s/window_put.so\ntype = wput\ninput = ev\nstore = wins\n"
    "[operator:sput]\nplugin = %s/window_put.so\ntype = wput\ninput = ev\nstore = sess\n"
    "[operator:mput]\nplugin = %s/window_put.so\ntype = wput\ninput = ev\nstore = mem\n"
    "[store:mem]\ntype = window\nwindow.size.ms = 10000\nbackend = memory\n"
    "[store:wins]\ntype = window\nwindow.size.ms = 10000\nretention.ms = 25000\n"
    "key.serde = string\nvalue.serde = int64\n"
    "[store:sess]\ntype = session\nretention.ms = 3600000\nkey.serde = string\n"
    "value.serde = int64\n"
    "[sink:out]\ninput = wput\ntopic = out\nkey.serde = string\nvalue.serde = int64\n";

typedef struct window_probe {
  int port;
  const char *path, *want;
} window_probe_t;

static int window_answer_is(void *arg) {
  window_probe_t *w = arg;
  http_answer_t a;
  int ok = http_get(w->port, w->path, NULL, &a) == 200 && strstr(a.body, w->want);
  http_answer_free(&a);
  return ok;
}

static void expect_window_answer(int port, const char *path, const char *want) {
  window_probe_t w = {port, path, want};
  if (it_wait_until(window_answer_is, &w, IT_WAIT_MS)) {
    http_answer_t a;
    http_get(port, path, NULL, &a);
    fail_msg("GET %s: %s, wanted %s", path, a.body ? a.body : "", want);
  }
}

static void send_event(rd_kafka_t *p, const char *key, int64_t at, int64_t value) {
  unsigned char v[8];
  weir_int64_encode(value, v);
  int32_t part = rd_kafka_msg_partitioner_murmur2_random(NULL, key, strlen(key), 3, NULL, NULL);
  assert_int_equal(it_send(p, "ev", part, key, v, 8, BASE_TS + at, NULL, NULL), 0);
}

static void test_window_queries(void **state) {
  (void)state;
  char ini[4096], stdir[700], path[256], want[512];
  snprintf(stdir, sizeof stdir, "%s/state", it_tmp.path);
  snprintf(ini, sizeof ini, window_ini_fmt, WEIR_TEST_FIXTURE_DIR, WEIR_TEST_FIXTURE_DIR,
           WEIR_TEST_FIXTURE_DIR);
  weir_topology_t *t = it_topology_in(ini, stdir);
  assert_non_null(t);
  weir_app_t *app = it_start(t, IT_WAIT_MS);
  int port = weir_app_http_port(app);
  rd_kafka_t *p = it_producer(weir_app_bootstrap(app));
  /* Windows (start = time): a@0 a@20000 b@10000 a@40000 c@20000; sessions
   * [time, time + value]. The last record takes a's stream time to 40000:
   * with retention 25000, a@0 (end 10000) is past it. */
  send_event(p, "a", 0, 1);
  send_event(p, "a", 20000, 2);
  send_event(p, "b", 10000, 3);
  send_event(p, "c", 20000, 5);
  send_event(p, "a", 40000, 4);
  rd_kafka_flush(p, IT_WAIT_MS);
  long long T = BASE_TS;
  snprintf(path, sizeof path, "/v1/stores/wins/keys/a");
  snprintf(want, sizeof want,
           "\"key\":\"a\",\"partition\":%d,\"windows\":[{\"start\":%lld,\"end\":%lld,"
           "\"value\":2},{\"start\":%lld,\"end\":%lld,\"value\":4}],\"truncated\":false}",
           (int)rd_kafka_msg_partitioner_murmur2_random(NULL, "a", 1, 3, NULL, NULL), T + 20000,
           T + 30000, T + 40000, T + 50000);
  expect_window_answer(port, path, want);
  snprintf(path, sizeof path, "/v1/stores/wins/keys/a?from=%lld&to=%lld", T + 30000, T + 50000);
  snprintf(want, sizeof want, "\"windows\":[{\"start\":%lld,\"end\":%lld,\"value\":4}]", T + 40000,
           T + 50000);
  expect_window_answer(port, path, want);
  /* Every key over [10000, 20000], by start then key; b's and c's partitions
   * may be another task's stream time, so only a's window can expire. */
  snprintf(path, sizeof path, "/v1/stores/wins/windows?from=%lld&to=%lld", T + 10000, T + 20000);
  expect_window_answer(port, path, "\"key\":\"b\"");
  http_answer_t a;
  assert_int_equal(http_get(port, path, NULL, &a), 200);
  const char *b = strstr(a.body, "\"key\":\"b\""), *a2 = strstr(a.body, "\"key\":\"a\""),
             *c = strstr(a.body, "\"key\":\"c\"");
  assert_true(b && a2 && c && b < a2 && a2 < c);
  assert_non_null(strstr(a.body, "\"truncated\":false"));
  assert_non_null(strstr(a.body, "\"partitions_here\":[0,1,2]"));
  http_answer_free(&a);
  snprintf(path, sizeof path, "/v1/stores/wins/windows?from=%lld&limit=2", T + 10000);
  expect_window_answer(port, path, "\"truncated\":true");
  /* Sessions of a overlapping [1, 20000]: [0, 1] and [20000, 20002]. */
  snprintf(path, sizeof path, "/v1/stores/sess/keys/a?from=%lld&to=%lld", T + 1, T + 20000);
  snprintf(want, sizeof want,
           "\"windows\":[{\"start\":%lld,\"end\":%lld,\"value\":1},{\"start\":%lld,\"end\":%lld,"
           "\"value\":2}],\"truncated\":false}",
           T, T + 1, T + 20000, T + 20002);
  expect_window_answer(port, path, want);
  assert_int_equal(http_get(port, "/v1/stores/wins/keys/a?from=9&to=1", NULL, &a), 400);
  http_answer_free(&a);
  assert_int_equal(http_get(port, "/v1/stores/wins/range", NULL, &a), 404);
  http_answer_free(&a);
  /* An in-memory store's rows are on the stream thread: refused, saying so. */
  assert_int_equal(http_get(port, "/v1/stores/mem/keys/a", NULL, &a), 501);
  assert_non_null(strstr(a.body, "store 'mem' is in memory (backend = memory)"));
  http_answer_free(&a);
  rd_kafka_destroy(p);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

int main(void) {
  (void)it_records_free; /* it_support.h's, unused here */
  const struct CMUnitTest tests[] = {IT_TEST(test_queries_and_metrics),
                                     IT_TEST(test_abuse_leaves_stream_untouched),
                                     IT_TEST(test_window_queries)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
