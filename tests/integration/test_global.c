/* Integration: a global table ([global:customers], 3 partitions) joined
 * with a stream (orders, 2 partitions: no co-partitioning) by the std
 * join's kind = stream-global, on a mock cluster the test owns, so the
 * topics outlive a restart of the app:
 *   - records of both topics written before the start: the first outputs
 *     already see the last global value written before the start (the
 *     stream is not processed before the table is restored whole);
 *   - a global record written while running reaches the table (the
 *     global thread's log line), and the next stream record sees it;
 *   - a restart reads only the global record written while it was down
 *     (its log line: 1 record, from the checkpoints);
 *   - a global table whose topic does not exist is refused with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"
#include "support/http_client.h"

#define BASE_TS INT64_C(1700000000000)

static int show(const char *line) {
  return strstr(line, "global") || strstr(line, "ERROR") || strstr(line, "WARN");
}

static it_mock_t mock = {.brokers = 1, .capture_log = 1, .debug = 1, .show = show};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

static const char ini_fmt[] =
    "[weir]\napplication.id = it-global\nbootstrap.servers = %s\ncommit.interval.ms = 100\n"
    "state.dir = %s\nthreads = 2\nhttp.listen = 127.0.0.1:0\n"
    "[source:orders]\ntopic = orders\n"
    "[global:customers]\ntopic = %s\nvalue.serde = json\n" /* line 10 */
    "[operator:j]\nplugin = std\ntype = join\ninput = orders\nkind = stream-global\n"
    "global = customers\njoin = left\n"
    "[sink:out]\ninput = j\ntopic = enriched\n"
    "[kafka]\nsession.timeout.ms = 6000\n"; /* a restart joins the group without waiting 45 s */

static weir_topology_t *topology(it_mock_t *c, const char *global_topic) {
  char ini[2048];
  snprintf(ini, sizeof ini, ini_fmt, c->bootstrap, c->state_dir, global_topic);
  return it_topology_in(ini, NULL);
}

static int cmp_records(const void *a, const void *b) {
  const it_record_t *x = a, *y = b;
  int c = strcmp(x->key ? x->key : "", y->key ? y->key : "");
  return c ? c : strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

static void put_rec(rd_kafka_t *p, const char *topic, int32_t partition, const char *key,
                    const char *value, int64_t ts) {
  assert_int_equal(
      it_send(p, topic, partition, key, value, value ? strlen(value) : 0, ts, NULL, NULL), 0);
}

/* Every distinct record of "enriched" (want of them), sorted, as
 * "key=value " (at least once: a rebalance between two threads may repeat
 * a record whose offset was not committed yet). */
static const char *enriched(it_mock_t *c, size_t want) {
  static char buf[4096];
  it_record_t got[32];
  size_t n = it_consume(c->bootstrap, "enriched", want, got, 32, IT_WAIT_MS), used = 0;
  qsort(got, n, sizeof *got, cmp_records);
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    if (i == 0 || cmp_records(&got[i - 1], &got[i]) != 0)
      used += (size_t)snprintf(buf + used, sizeof buf - used, "%s=%s ", got[i].key,
                               got[i].value ? got[i].value : "DEL");
  it_records_free(got, n);
  return buf;
}

/* enriched() until it is `want` (the records are there, duplicates
 * aside, and none else), or IT_WAIT_MS: what it last was. A count alone
 * cannot tell when to stop reading: a duplicate makes up for a record not
 * written yet. */
static const char *enriched_is(it_mock_t *c, const char *want) {
  long long deadline = it_now_ms() + IT_WAIT_MS;
  const char *got = enriched(c, 1);
  while (strcmp(got, want) != 0 && it_now_ms() < deadline) {
    usleep(100000);
    got = enriched(c, 1);
  }
  return got;
}

/* The number of the first line of the log holding `text` (0: none). */
static int log_line_of(it_mock_t *c, const char *text) {
  char line[4096];
  int n = 0, found = 0;
  fflush(stderr);
  FILE *f = fopen(c->log_path, "r");
  while (f && !found && fgets(line, sizeof line, f))
    if (++n && strstr(line, text))
      found = n;
  if (f)
    fclose(f);
  return found;
}

static void stop(weir_app_t *app) {
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
}

#define FOUR                                                                                       \
  "c1={\"id\":1,\"name\":\"ann2\"} c2={\"id\":2,\"name\":\"bob\"} c2={\"id\":4,\"name\":\"bo\"} "  \
  "c3={\"id\":3} "
#define FIVE FOUR "c5={\"id\":5,\"name\":\"eve\"} "

static void test_restore_update_restart(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "orders", 2, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "customers", 3, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "enriched", 2, 1), 0);
  rd_kafka_t *p = it_producer(c->bootstrap);
  /* c1's last value before the start is ann2; c3 is deleted. */
  put_rec(p, "customers", 0, "c1", "{\"name\":\"ann\"}", BASE_TS);
  put_rec(p, "customers", 1, "c2", "{\"name\":\"bob\"}", BASE_TS);
  put_rec(p, "customers", 2, "c3", "{\"name\":\"cy\"}", BASE_TS);
  put_rec(p, "customers", 0, "c1", "{\"name\":\"ann2\"}", BASE_TS + 1);
  put_rec(p, "customers", 2, "c3", NULL, BASE_TS + 1);
  /* Orders with earlier timestamps than the table's last records, in other
   * partitions than their customers': waiting in the topic at the start. */
  put_rec(p, "orders", 1, "c1", "{\"id\":1}", BASE_TS - 10);
  put_rec(p, "orders", 0, "c2", "{\"id\":2}", BASE_TS - 10);
  put_rec(p, "orders", 1, "c3", "{\"id\":3}", BASE_TS - 10);
  rd_kafka_flush(p, IT_WAIT_MS);

  weir_topology_t *t = topology(c, "customers");
  assert_non_null(t);
  weir_app_t *app = it_start(t, IT_WAIT_MS);
  assert_true(it_log_has(c->log_path,
                         "global table 'customers': restored 5 record(s) of topic 'customers' (3 "
                         "partition(s), from the beginning)",
                         NULL));
  /* Restored before any stream thread existed (not merely before its
   * first record, which the group's join would delay anyway). */
  assert_int_equal(it_wait_log(c->log_path, "thread 0: started", NULL, IT_WAIT_MS), 0);
  int restored = log_line_of(c, "global table 'customers': restored 5");
  int started = log_line_of(c, "thread 0: started");
  assert_true(restored > 0 && started > restored);
  assert_string_equal(enriched_is(c, "c1={\"id\":1,\"name\":\"ann2\"} "
                                     "c2={\"id\":2,\"name\":\"bob\"} c3={\"id\":3} "),
                      "c1={\"id\":1,\"name\":\"ann2\"} c2={\"id\":2,\"name\":\"bob\"} "
                      "c3={\"id\":3} ");
  /* Kept current: once the global thread has applied bo, c2's next order
   * sees it. */
  put_rec(p, "customers", 1, "c2", "{\"name\":\"bo\"}", BASE_TS + 2);
  rd_kafka_flush(p, IT_WAIT_MS);
  assert_int_equal(
      it_wait_log(c->log_path, "global table 'customers': applied 1 record(s)", NULL, IT_WAIT_MS),
      0);
  put_rec(p, "orders", 0, "c2", "{\"id\":4}", BASE_TS + 3);
  rd_kafka_flush(p, IT_WAIT_MS);
  assert_string_equal(enriched_is(c, FOUR), FOUR);
  /* Over HTTP, any instance answers for any key of a global table from its
   * own copy: no partition to own, nothing to forward. */
  http_answer_t a;
  int port = weir_app_http_port(app);
  assert_int_equal(http_get(port, "/v1/stores/customers/keys/c2", NULL, &a), 200);
  assert_non_null(strstr(a.body, "\"key\":\"c2\",\"value\":{\"name\":\"bo\"}"));
  http_answer_free(&a);
  assert_int_equal(http_get(port, "/v1/stores/customers/keys/c3", NULL, &a), 404);
  http_answer_free(&a);
  assert_int_equal(http_get(port, "/v1/stores/customers/range", NULL, &a), 200);
  const char *c1 = strstr(a.body, "\"key\":\"c1\""), *c2 = strstr(a.body, "\"key\":\"c2\"");
  assert_true(c1 && c2 && c1 < c2 && !strstr(a.body, "\"key\":\"c3\""));
  http_answer_free(&a);
  stop(app);

  /* Down: one more customer and an order of it. */
  put_rec(p, "customers", 2, "c5", "{\"name\":\"eve\"}", BASE_TS + 4);
  put_rec(p, "orders", 0, "c5", "{\"id\":5}", BASE_TS + 5);
  rd_kafka_flush(p, IT_WAIT_MS);
  rd_kafka_destroy(p);
  app = it_start(t, IT_WAIT_MS);
  assert_true(it_log_has(c->log_path,
                         "global table 'customers': restored 1 record(s) of topic 'customers' (3 "
                         "partition(s), from its checkpoints)",
                         NULL));
  assert_string_equal(enriched_is(c, FIVE), FIVE);
  stop(app);
  weir_topology_free(t);
}

static void test_missing_topic_refused(void **state) {
  it_mock_t *c = *state;
  char err[2048];
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "orders", 2, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "enriched", 2, 1), 0);
  weir_topology_t *t = topology(c, "no-such-topic");
  assert_non_null(t);
  weir_app_options_t opts = {.shutdown_timeout_ms = IT_WAIT_MS, .no_control = 1};
  weir_app_t *app = weir_app_start(t, &opts, err, sizeof err);
  if (app) {
    stop(app);
    fail_msg("started with a global table of a topic that does not exist");
  }
  char want[1024];
  snprintf(want, sizeof want,
           "it.ini:10: global 'customers': topic 'no-such-topic' does not exist on %s: create it "
           "first (kafka-topics.sh --create --topic no-such-topic) or fix the name",
           c->bootstrap);
  assert_string_equal(err, want);
  weir_topology_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_restore_update_restart, setup, it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_missing_topic_refused, setup, it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
