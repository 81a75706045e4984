/* Integration: weir_offsets_query (kafka/offsets_query.h) reads a
 * partition's first and end offsets, and gives up at its timeout when the
 * broker does not answer, where librdkafka 2.0.2's
 * rd_kafka_query_watermark_offsets waited for the answer whatever its
 * timeout said: a restore asking for its changelog's offsets held its
 * stream thread, and every task on it, for 60 s while the broker was frozen
 * (make test, test_faults, 2026-12-07). The mock broker delays its answers
 * (rd_kafka_mock_broker_set_rtt) so that none comes within the timeout: the
 * test asserts which answer each call gives, never how long it took. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"
#include "kafka/offsets_query.h"

static it_mock_t mock = {.brokers = 1};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

static rd_kafka_t *consumer(const char *bootstrap) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  assert_non_null(rk);
  return rk;
}

/* 5 records in partition 0, none in 1: [0, 5) and [0, 0); a partition the
 * topic does not have is an error, not offsets. */
static void test_first_and_end_offsets(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "oq", 2, 1), 0);
  rd_kafka_t *p = it_producer(c->bootstrap);
  for (int i = 0; i < 5; i++)
    assert_int_equal(it_send(p, "oq", 0, "k", "v", 1, 1700000000000 + i, NULL, NULL), 0);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  rd_kafka_t *rk = consumer(c->bootstrap);
  int64_t low = -7, high = -7;
  assert_int_equal(weir_offsets_query(rk, "oq", 0, IT_WAIT_MS, &low, &high), 0);
  assert_int_equal(low, 0);
  assert_int_equal(high, 5);
  low = high = -7;
  assert_int_equal(weir_offsets_query(rk, "oq", 1, IT_WAIT_MS, &low, &high), 0);
  assert_int_equal(low, 0);
  assert_int_equal(high, 0);
  low = high = -7;
  assert_int_not_equal(weir_offsets_query(rk, "oq", 7, 2000, &low, &high), 0);
  assert_int_equal(low, -7);
  assert_int_equal(high, -7);
  rd_kafka_destroy(rk);
  it_records_free(NULL, 0); /* it_support.h's: every includer uses it */
}

/* A broker that answers 20 s late: the query says it timed out (librdkafka's
 * own query returned the offsets, 20 s later); once the broker answers in
 * time again, so does the query. */
static void test_a_late_broker_does_not_hold_the_caller(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "oq-late", 1, 1), 0);
  rd_kafka_t *rk = consumer(c->bootstrap);
  int64_t low = -7, high = -7;
  assert_int_equal(weir_offsets_query(rk, "oq-late", 0, IT_WAIT_MS, &low, &high), 0);
  assert_int_equal(rd_kafka_mock_broker_set_rtt(c->mc, 1, 20000), 0);
  low = high = -7;
  assert_int_equal(weir_offsets_query(rk, "oq-late", 0, 300, &low, &high),
                   RD_KAFKA_RESP_ERR__TIMED_OUT);
  assert_int_equal(high, -7);
  assert_int_equal(rd_kafka_mock_broker_set_rtt(c->mc, 1, 0), 0);
  /* The late answers still in flight come first: ask until one is on time. */
  rd_kafka_resp_err_t err;
  long long deadline = it_now_ms() + IT_WAIT_MS;
  while ((err = weir_offsets_query(rk, "oq-late", 0, 1000, &low, &high)) && it_now_ms() < deadline)
    ;
  assert_int_equal(err, 0);
  assert_int_equal(low, 0);
  assert_int_equal(high, 0);
  rd_kafka_destroy(rk);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_first_and_end_offsets, setup, it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_a_late_broker_does_not_hold_the_caller, setup,
                                      it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
