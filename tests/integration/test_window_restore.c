/* Integration: window and session stores restored from their changelog.
 * A count with emit = final runs over half the input and stops in the
 * middle of a window; its state directory is wiped; the restart restores
 * the open windows from the changelog (skipping what is past retention) and
 * finishes the input. Its final results, window for window, equal those of
 * an uninterrupted run of the same topology over the whole input (another
 * application.id), and the counts that input must give; and no window is
 * emitted twice, since the last close time emitted is restored too (Kafka
 * Streams keeps it in its commit's processor metadata).
 *   - tumbling 10 s windows;
 *   - 0.5 s sessions: one record a second over 5 keys, so each session is
 *     one record, closed by the next record.
 * And a task's stream time survives a restart (it travels in the committed
 * offsets' metadata, as Kafka Streams' partition time). In-memory stores
 * (backend = memory) restore at every restart, from the changelog's start:
 * the tumbling case again with its state directory kept, and a kv count. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"
#include "support/http_client.h"

#define BASE_TS INT64_C(1700000000000) /* a multiple of 10 s */
#define KEYS 5
#define TOTAL 600   /* one record a second: 60 windows of 10 s */
#define FIRST 295   /* stop in the middle of window 29 */
#define WINDOWS 700 /* at most: one session a record */

static int show(const char *line) {
  return strstr(line, "restore") || strstr(line, "ERROR") || strstr(line, "WARN");
}

static it_mock_t mock = {.brokers = 1, .capture_log = 1, .show = show};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* One case: its topics' and apps' prefix, the window lines of the operator
 * and the store, and what the uninterrupted run must give. */
typedef struct {
  const char *prefix, *op, *store;
  size_t finals; /* windows closed (and emitted once each) */
  int64_t count; /* every window's count */
  int in_memory; /* backend = memory: the restart restores without a wipe */
} win_case_t;

static const win_case_t tumbling = {
    "wr", "window = tumbling\nsize = 10000\n",
    /* Stream time ends at 599 s: windows 0..58 are closed, 59 is not. */
    "type = window\nwindow.size.ms = 10000\n", 59 * KEYS, 2 /* 10 records over 5 keys */, 0};
static const win_case_t sessions = {
    "ws", "window = session\ngap = 500\nemit.interval.ms = 0\n", "type = session\n",
    /* Sessions close at stream time - 0.5 s: every record's but the last. */
    TOTAL - 1, 1, 0};
/* The same in memory: nothing in the state directory to restore from (a
 * session store restores through the same code). */
static const win_case_t tumbling_memory = {
    "wm",
    "window = tumbling\nsize = 10000\n",
    "type = window\nwindow.size.ms = 10000\nbackend = memory\n",
    59 * KEYS,
    2,
    1};

/* Retention 60 s: a segment (60 s) is dropped while the input runs, so the
 * changelog holds windows the restore must skip. */
static const char ini_fmt[] =
    "[weir]\napplication.id = %s\nbootstrap.servers = %s\ncommit.interval.ms = 100\n"
    "state.dir = %s/%s\n[kafka]\nsession.timeout.ms = 6000\n"
    "[source:in]\ntopic = %s-in\n"
    "[operator:w]\nplugin = std\ntype = window\ninput = in\nstore = counts\n"
    "%semit = final\nwindow.key.format = text\n"
    "[store:counts]\n%sretention.ms = 60000\n"
    "[sink:out]\ninput = w\ntopic = %s\nkey.serde = string\nvalue.serde = int64\n";

static weir_topology_t *topology(it_mock_t *c, const win_case_t *k, const char *app,
                                 const char *out) {
  char ini[2048];
  snprintf(ini, sizeof ini, ini_fmt, app, c->bootstrap, c->state_dir, app, k->prefix, k->op,
           k->store, out);
  return it_topology(ini);
}

static void send_range(const char *bootstrap, const char *topic, int from, int to) {
  char key[16];
  rd_kafka_t *p = it_producer(bootstrap);
  assert_non_null(p);
  for (int i = from; i < to; i++) {
    snprintf(key, sizeof key, "k%d", i % KEYS);
    assert_int_equal(it_send(p, topic, 0, key, "x", 1, BASE_TS + i * 1000, NULL, NULL), 0);
  }
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
}

/* The latest count per window ("k3@<start>/<end>"), as a reader keeps. */
typedef struct {
  char key[WINDOWS][64];
  int64_t count[WINDOWS];
  size_t n, records;
} finals_t;

static void note(const rd_kafka_message_t *m, void *arg) {
  finals_t *f = arg;
  char key[64] = "";
  if (m->key_len < sizeof key)
    memcpy(key, m->key, m->key_len);
  size_t i = 0;
  while (i < f->n && strcmp(f->key[i], key) != 0)
    i++;
  if (i == f->n && f->n < WINDOWS)
    snprintf(f->key[f->n++], sizeof f->key[0], "%s", key);
  if (i < WINDOWS)
    f->count[i] = it_be64(m->payload, m->len);
  f->records++;
}

static int64_t final_of(const finals_t *f, const char *key) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->key[i], key) == 0)
      return f->count[i];
  return -1;
}

/* Feed [from, to) in chunks of a minute, each committed before the next,
 * so the changelog gets windows before they expire (ones a restore skips). */
static void run(weir_topology_t *t, const char *bootstrap, const char *group, const char *in,
                int from, int to, int feed) {
  weir_app_t *app = it_start(t, 20000);
  for (int at = from; at < to; at += 60) {
    int end = at + 60 < to ? at + 60 : to;
    if (feed)
      send_range(bootstrap, in, at, end);
    assert_int_equal(it_wait_committed(bootstrap, group, in, feed ? end : to, 3 * IT_WAIT_MS),
                     feed ? end : to);
  }
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
}

static void restored_after_wipe(it_mock_t *c, const win_case_t *k) {
  static finals_t restarted, straight;
  char dir[700], in[32], out[32], straight_out[32], app2[32], name[64];
  memset(&restarted, 0, sizeof restarted);
  memset(&straight, 0, sizeof straight);
  snprintf(in, sizeof in, "%s-in", k->prefix);
  snprintf(out, sizeof out, "%s-out", k->prefix);
  snprintf(straight_out, sizeof straight_out, "%s-straight", k->prefix);
  snprintf(app2, sizeof app2, "%s2", k->prefix);
  const char *topics[] = {in, out, straight_out};
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(rd_kafka_mock_topic_create(c->mc, topics[i], 1, 1), 0);
  for (int second = 0; second < 2; second++) {
    snprintf(name, sizeof name, "%s-counts-changelog", second ? app2 : k->prefix);
    assert_int_equal(rd_kafka_mock_topic_create(c->mc, name, 1, 1), 0);
  }
  weir_topology_t *t = topology(c, k, k->prefix, out);
  assert_non_null(t);
  run(t, c->bootstrap, k->prefix, in, 0, FIRST, 1);
  snprintf(dir, sizeof dir, "%s/%s", c->state_dir, k->prefix);
  if (!k->in_memory)
    assert_int_equal(weir_rm_rf(dir), 0); /* the state is lost: restore it */
  run(t, c->bootstrap, k->prefix, in, FIRST, TOTAL, 1);
  weir_topology_free(t);
  assert_true(it_log_has(c->log_path,
                         k->in_memory ? "restore: store 'counts' partition 0 is in memory"
                                      : "restore: store 'counts' partition 0",
                         NULL));

  t = topology(c, k, app2, straight_out);
  assert_non_null(t);
  run(t, c->bootstrap, app2, in, 0, TOTAL, 0);
  weir_topology_free(t);

  it_consume_each(c->bootstrap, out, 1, note, &restarted, IT_WAIT_MS);
  it_consume_each(c->bootstrap, straight_out, 1, note, &straight, IT_WAIT_MS);
  assert_int_equal(straight.n, k->finals);
  assert_int_equal(straight.records, k->finals); /* uninterrupted: each once */
  assert_int_equal(restarted.n, straight.n);
  /* The last close time emitted is restored with the windows: the restart
   * emits none of them again. */
  assert_int_equal(restarted.records, straight.records);
  for (size_t i = 0; i < straight.n; i++) {
    assert_int_equal(straight.count[i], k->count);
    if (final_of(&restarted, straight.key[i]) != straight.count[i])
      fail_msg("window %s: %lld after the restore, %lld uninterrupted", straight.key[i],
               (long long)final_of(&restarted, straight.key[i]), (long long)straight.count[i]);
  }
  it_records_free(NULL, 0);
}

static void test_window_store_restored_after_wipe(void **state) {
  restored_after_wipe(*state, &tumbling);
}

static void test_sessions_not_emitted_again_after_restore(void **state) {
  restored_after_wipe(*state, &sessions);
}

static void test_in_memory_window_store_restored(void **state) {
  restored_after_wipe(*state, &tumbling_memory);
}

/* An in-memory kv store: a count over the first half of the input, a
 * restart (its state directory kept: nothing of the store is there), the
 * second half; every key's count is that of the whole input, which it can
 * only be if the restart read the changelog from its start. */
static void test_in_memory_kv_store_restored(void **state) {
  it_mock_t *c = *state;
  static finals_t counts;
  memset(&counts, 0, sizeof counts);
  const char *topics[] = {"km-in", "km-out", "km-counts-changelog"};
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(rd_kafka_mock_topic_create(c->mc, topics[i], 1, 1), 0);
  char ini[2048];
  snprintf(ini, sizeof ini,
           "[weir]\napplication.id = km\nbootstrap.servers = %s\ncommit.interval.ms = 100\n"
           "state.dir = %s/km\n[kafka]\nsession.timeout.ms = 6000\n"
           "[source:in]\ntopic = km-in\n"
           "[operator:n]\nplugin = std\ntype = count\ninput = in\nemit = update\n"
           "store = counts\n[store:counts]\ntype = kv\nbackend = memory\n"
           "[sink:out]\ninput = n\ntopic = km-out\nkey.serde = string\nvalue.serde = int64\n",
           c->bootstrap, c->state_dir);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  run(t, c->bootstrap, "km", "km-in", 0, FIRST, 1);
  run(t, c->bootstrap, "km", "km-in", FIRST, TOTAL, 1);
  weir_topology_free(t);
  assert_true(it_log_has(c->log_path, "restore: store 'counts' partition 0 is in memory", NULL));
  it_consume_each(c->bootstrap, "km-out", 1, note, &counts, IT_WAIT_MS);
  assert_int_equal(counts.n, KEYS);
  assert_int_equal(counts.records, TOTAL); /* emit = update: one a record */
  for (int k = 0; k < KEYS; k++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", k);
    assert_int_equal(final_of(&counts, key), TOTAL / KEYS);
  }
}

/* The restarted instance's task, before any record comes: its stream time
 * (weir_task_stream_time_ms) is the one it committed, 99 s into the input,
 * not "none". A probe for it_wait_until. */
typedef struct {
  int port;
  long long want;
} time_probe_t;

static int stream_time_shown(void *arg) {
  time_probe_t *pr = arg;
  http_answer_t a;
  char want[96];
  snprintf(want, sizeof want, "weir_task_stream_time_ms{task=\"0_0\"} %lld\n", pr->want);
  int ok = http_get(pr->port, "/metrics", NULL, &a) == 200 && strstr(a.body, want);
  http_answer_free(&a);
  return ok;
}

/* A task's stream time survives a restart: it travels in the committed
 * offsets' metadata (Kafka Streams' partition time), so the restarted task
 * starts there, as its window stores do (what they keep, and so what a
 * stream-stream join finds, does not start again after a move:
 * test_join_rebalance with WEIR_TEST_JOIN_LATE=1). Before, the task started with none (-1,
 * left out of /metrics). */
static void test_stream_time_survives_restart(void **state) {
  it_mock_t *c = *state;
  const char *topics[] = {"wt-in", "wt-out", "wt-counts-changelog"};
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(rd_kafka_mock_topic_create(c->mc, topics[i], 1, 1), 0);
  char ini[2048];
  snprintf(ini, sizeof ini, ini_fmt, "wt", c->bootstrap, c->state_dir, "wt", "wt", tumbling.op,
           tumbling.store, "wt-out");
  char *weir = strstr(ini, "[weir]\n") + strlen("[weir]\n"),
       listen[] = "http.listen = 127.0.0.1:0\n";
  memmove(weir + strlen(listen), weir, strlen(weir) + 1);
  memcpy(weir, listen, strlen(listen));
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  run(t, c->bootstrap, "wt", "wt-in", 0, 100, 1);
  weir_app_t *app = it_start(t, 20000);
  time_probe_t pr = {weir_app_http_port(app), BASE_TS + 99 * 1000};
  assert_true(pr.port > 0);
  if (it_wait_until(stream_time_shown, &pr, IT_WAIT_MS))
    fail_msg("/metrics never showed task 0_0 at stream time %lld after the restart", pr.want);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_window_store_restored_after_wipe, setup,
                                      it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_sessions_not_emitted_again_after_restore, setup,
                                      it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_stream_time_survives_restart, setup, it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_in_memory_window_store_restored, setup,
                                      it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_in_memory_kv_store_restored, setup, it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
