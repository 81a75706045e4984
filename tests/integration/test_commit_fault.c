/* Integration: the commit under delivery faults, on a mock cluster the test
 * owns so it can take partitions' leaders away. A stateful commit whose
 * changelog or output records fail delivery (a partition without a leader
 * past message.timeout.ms) must commit no input offset and write nothing to
 * RocksDB — before the fix both went ahead, since rd_kafka_flush() counts a
 * failed message as done. Once the leader is back, a restart counts every
 * record: exactly when the changelog lost the failed commit's updates, and
 * the uncommitted inputs twice when the changelog already had them (at
 * least once: never lost), the store always agreeing with the output. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"
#include "state/state_db.h"

#define BASE_TS INT64_C(1700000000000)
#define CHANGELOG "fc-counts-changelog"

static it_mock_t mock = {.brokers = 1};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* A count per key, one partition everywhere; deliveries time out after 2 s,
 * well inside the 20 s the commit waits for them; a short session, because
 * the mock lets a restarted app in only once the old member expired. */
static const char ini_fmt[] =
    "[weir]\napplication.id = fc\nbootstrap.servers = %s\ncommit.interval.ms = 200\n"
    "state.dir = %s\n"
    "[kafka]\nmessage.timeout.ms = 2000\nsession.timeout.ms = 6000\n"
    "[source:in]\ntopic = %s\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = in\nstore = counts\n"
    "[store:counts]\ntype = kv\n"
    "[sink:out]\ninput = count\ntopic = %s\nkey.serde = string\nvalue.serde = int64\n";

static void send_n(const char *bootstrap, const char *topic, const char *key, int n) {
  rd_kafka_t *p = it_producer(bootstrap);
  for (int i = 0; i < n; i++)
    assert_int_equal(it_send(p, topic, 0, key, "x", 1, BASE_TS + i, NULL, NULL), 0);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
}

/* Wait until the group committed `want` on in/0. */
static int64_t wait_committed(const char *bootstrap, const char *topic, int64_t want) {
  return it_wait_committed(bootstrap, "fc", topic, want, IT_WAIT_MS);
}

/* The count RocksDB holds for `key` (after the app closed the database). */
static int64_t stored_count(const char *key) {
  char err[512];
  void *v = NULL;
  size_t n = 0;
  weir_state_db_t *db = weir_state_db_open(mock.state_dir, "fc", 16, NULL, err, sizeof err);
  if (!db)
    fail_msg("state db: %s", err);
  int rc = weir_state_db_get(db, "counts", 0, key, strlen(key), &v, &n, err, sizeof err);
  int64_t count = rc == 1 ? it_be64(v, n) : rc == 0 ? 0 : -1;
  free(v);
  weir_state_db_close(db);
  return count;
}

/* The latest count in `topic`, read to the partition's end (-1 when it
 * holds none). Called once the writes are known to be done (their inputs
 * committed, or the app stopped), so the end is final; every record is
 * key "a". */
static int64_t latest_count(const char *bootstrap, const char *topic) {
  static it_record_t got[1024];
  int64_t latest = -1;
  size_t n = it_consume(bootstrap, topic, 0, got, 1024, IT_WAIT_MS);
  for (size_t i = 0; i < n; i++) {
    if (!got[i].key || strcmp(got[i].key, "a") != 0)
      fail_msg("%s: record %zu has key '%s', expected 'a'", topic, i,
               got[i].key ? got[i].key : "(none)");
    latest = it_be64(got[i].value, got[i].value_len);
  }
  it_records_free(got, n);
  return latest;
}

/* `dark` (the changelog or the output topic) loses its leader after a first
 * commit; the next commit's deliveries to it fail. */
static void fault_then_recover(it_mock_t *c, const char *in, const char *out, const char *dark) {
  char ini[2048];
  snprintf(ini, sizeof ini, ini_fmt, c->bootstrap, c->state_dir, in, out);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, in, 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, out, 1, 1), 0);
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(c->mc, CHANGELOG, 1, 1);
  assert_true(!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);

  weir_app_t *app = it_start(t, IT_WAIT_MS);
  send_n(c->bootstrap, in, "a", 10);
  assert_int_equal(wait_committed(c->bootstrap, in, 10), 10);
  /* Committed means the output and changelog were acknowledged first. */
  assert_int_equal(latest_count(c->bootstrap, out), 10);
  assert_int_equal(latest_count(c->bootstrap, CHANGELOG), 10);

  rd_kafka_mock_partition_set_leader(c->mc, dark, 0, -1);
  send_n(c->bootstrap, in, "a", 7);
  /* The failed delivery stops the app (exit code 1). */
  assert_int_equal(weir_app_wait_stop(app, IT_WAIT_MS), 1);
  assert_int_equal(weir_app_join(app), 1);
  weir_app_free(app);
  assert_int_equal(it_committed(c->bootstrap, "fc", in, 0), 10);
  assert_int_equal(stored_count("a"), 10);

  rd_kafka_mock_partition_set_leader(c->mc, dark, 0, 1);
  /* What a restore will start from, final now the app has stopped: 10 when
   * the changelog lost the failed commit's updates, more (up to 17) when it
   * took them (its leader was up). */
  int64_t restored = latest_count(c->bootstrap, CHANGELOG);
  if (strcmp(dark, CHANGELOG) == 0)
    assert_int_equal(restored, 10);
  else if (restored <= 10 || restored > 17)
    fail_msg("the changelog holds count %lld after the failed output commit, expected 11..17",
             (long long)restored);
  fprintf(stderr, "it: %s dark: the restore starts from count %lld\n", dark, (long long)restored);
  app = it_start(t, IT_WAIT_MS);
  assert_int_equal(wait_committed(c->bootstrap, in, 17), 17);
  assert_int_equal(latest_count(c->bootstrap, out), restored + 7);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  assert_int_equal(stored_count("a"), restored + 7);
  weir_topology_free(t);
  it_expect_no_staging();
}

static void test_failed_changelog_delivery_blocks_commit(void **state) {
  fault_then_recover(*state, "in-cl", "out-cl", CHANGELOG);
}

static void test_failed_output_delivery_blocks_commit(void **state) {
  fault_then_recover(*state, "in-out", "out-out", "out-out");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, it_mock_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_failed_changelog_delivery_blocks_commit),
      T(test_failed_output_delivery_blocks_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
