/* Integration: an asynchronous commit that fails, then a stop. The periodic
 * commit of a stateless topology is asynchronous; before the fix it marked
 * its offsets committed when sent, so the stop's commit skipped them and,
 * once the broker answered with an error, the partition stayed at the old
 * offset: every record since was processed again after a restart. The
 * mock broker delays that error by ERR_RTT_MS, and the test stops the app
 * as soon as the broker took the failing request: the group must end at
 * the last offset, and a restart must produce nothing again. */
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

#define BASE_TS INT64_C(1700000000000)
#define OFFSET_COMMIT_API 8
/* Long enough that the stop's own commit is sent before the error comes
 * back on any machine; the stop waits for it (shutdown_timeout_ms). The
 * mock answers a connection's requests in order, so the heartbeats wait as
 * long: the session (heartbeats every 500 ms) outlasts that, else the
 * member is dropped meanwhile. */
#define ERR_RTT_MS 5000

static it_mock_t mock = {.brokers = 1};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* Records copied from in to out; a session twice ERR_RTT_MS, no longer,
 * because the mock lets a restarted app in only once the old member
 * expired. */
static const char ini_fmt[] =
    "[weir]\napplication.id = ac\nbootstrap.servers = %s\ncommit.interval.ms = 100\n"
    "[kafka]\nsession.timeout.ms = 10000\nheartbeat.interval.ms = 500\n"
    "[source:in]\ntopic = ac-in\n"
    "[sink:out]\ninput = in\ntopic = ac-out\n";

static void send_n(const char *bootstrap, int from, int n) {
  rd_kafka_t *p = it_producer(bootstrap);
  char key[32];
  for (int i = from; i < from + n; i++) {
    snprintf(key, sizeof key, "k%d", i);
    assert_int_equal(it_send(p, "ac-in", 0, key, "x", 1, BASE_TS + i, NULL, NULL), 0);
  }
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

static int64_t wait_committed(const char *bootstrap, int64_t want) {
  return it_wait_committed(bootstrap, "ac", "ac-in", want, IT_WAIT_MS);
}

typedef struct {
  rd_kafka_mock_cluster_t *mc;
} taken_t;

/* The broker took the failing OffsetCommit: its error stack is empty. */
static int error_taken(void *arg) {
  size_t left = 1;
  rd_kafka_mock_broker_error_stack_cnt(((taken_t *)arg)->mc, 1, OFFSET_COMMIT_API, &left);
  return left == 0;
}

/* Keys k0..k(n-1) each once in out, in order. */
static void assert_output(const char *bootstrap, int n) {
  static it_record_t got[64];
  size_t count = it_consume(bootstrap, "ac-out", (size_t)n, got, 64, IT_WAIT_MS);
  assert_int_equal(count, n);
  for (int i = 0; i < n; i++) {
    char key[32];
    snprintf(key, sizeof key, "k%d", i);
    assert_string_equal(got[i].key, key);
  }
  it_records_free(got, count);
}

static void test_failed_async_commit_then_stop(void **state) {
  it_mock_t *c = *state;
  char ini[1024];
  snprintf(ini, sizeof ini, ini_fmt, c->bootstrap);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ac-in", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ac-out", 1, 1), 0);
  weir_topology_t *t = it_topology_in(ini, c->state_dir);
  assert_non_null(t);

  weir_app_t *app = it_start(t, 3 * ERR_RTT_MS);
  send_n(c->bootstrap, 0, 10);
  assert_int_equal(wait_committed(c->bootstrap, 10), 10);

  /* The next commit fails, its answer held back by the broker. */
  rd_kafka_mock_broker_push_request_error_rtts(
      c->mc, 1, OFFSET_COMMIT_API, 1, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, ERR_RTT_MS);
  send_n(c->bootstrap, 10, 5);
  taken_t taken = {c->mc};
  assert_int_equal(it_wait_until(error_taken, &taken, IT_WAIT_MS), 0);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  assert_int_equal(it_committed(c->bootstrap, "ac", "ac-in", 0), 15);
  assert_output(c->bootstrap, 15);

  /* A restart starts at 15: nothing is copied twice. */
  app = it_start(t, 3 * ERR_RTT_MS);
  send_n(c->bootstrap, 15, 1);
  assert_int_equal(wait_committed(c->bootstrap, 16), 16);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  assert_output(c->bootstrap, 16);
  weir_topology_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_failed_async_commit_then_stop, setup, it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
