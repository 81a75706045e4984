/* When weir wakes a consumer's fetchers (kafka/fetch_wake.h): only after
 * the queue reached librdkafka's threshold (queued.min.messages records, or
 * queued.max.messages.kbytes, stopping a tenth short of either), once it is
 * down to half, and once per time it reached it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <time.h>

#include "kafka/fetch_wake.h"
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h, which fetch_wake.h includes */

#define MIN_MSGS 1000
#define MAX_BYTES (64 * 1024 * 1024)

static int decide(int *throttled, size_t len, size_t avg) {
  return weir_fetch_wake_decide(throttled, len, avg, MIN_MSGS, MAX_BYTES);
}

static void test_by_count(void **state) {
  (void)state;
  int throttled = 0;
  assert_int_equal(decide(&throttled, 0, 100), 0); /* never full: nothing to wake */
  assert_int_equal(decide(&throttled, 899, 100), 0);
  assert_int_equal(throttled, 0);
  assert_int_equal(decide(&throttled, 900, 100), 0); /* at the threshold: the fetcher stops */
  assert_int_equal(throttled, 1);
  assert_int_equal(decide(&throttled, 700, 100), 0); /* draining, still over half */
  assert_int_equal(decide(&throttled, 501, 100), 0);
  assert_int_equal(decide(&throttled, 500, 100), 1); /* half: wake, once */
  assert_int_equal(throttled, 0);
  assert_int_equal(decide(&throttled, 200, 100), 0);
  assert_int_equal(decide(&throttled, 0, 100), 0);
  assert_int_equal(decide(&throttled, 1200, 100), 0); /* full again */
  assert_int_equal(decide(&throttled, 0, 100), 1);
}

static void test_by_bytes(void **state) {
  (void)state;
  int throttled = 0;
  size_t mib = 1024 * 1024;
  assert_int_equal(decide(&throttled, 50, mib), 0); /* 50 MiB: under 90% of 64 */
  assert_int_equal(throttled, 0);
  assert_int_equal(decide(&throttled, 58, mib), 0); /* 58 MiB: over 57.6 */
  assert_int_equal(throttled, 1);
  assert_int_equal(decide(&throttled, 33, mib), 0);
  assert_int_equal(decide(&throttled, 32, mib), 1);
}

static void test_no_handle(void **state) {
  (void)state;
  weir_fetch_wake_after_pull(NULL, NULL, 0, 123456); /* librdkafka >= 2.2: nothing to do */
  assert_int_equal(weir_fetch_wake_count(NULL), 0);
  weir_fetch_wake_free(NULL);
}

/* The wake is a ListOffsets whose call waits for the broker's answer
 * whatever its timeout (3.04 s with 200 ms against a broker answering in
 * 3 s): it is sent off the polling thread, which returns before the answer.
 * A mock broker answering in 5 s makes that visible without timing anything:
 * after_pull returns with the wake asked for and none answered yet, and the
 * answer comes later. */
static void test_wake_does_not_wait_for_the_broker(void **state) {
  (void)state;
  char err[256];
  rd_kafka_t *mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
  assert_non_null(mock_rk);
  rd_kafka_mock_cluster_t *mock = rd_kafka_mock_cluster_new(mock_rk, 1);
  assert_non_null(mock);
  assert_int_equal(rd_kafka_mock_topic_create(mock, "t", 1, 1), 0);
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock), err,
                    sizeof err);
  rd_kafka_conf_set(conf, "group.id", "wake", err, sizeof err);
  rd_kafka_conf_set(conf, "queued.min.messages", "1000", err, sizeof err);
  rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  assert_non_null(consumer);
  int64_t low, high; /* the partition's leader known, so only the ListOffsets waits */
  assert_int_equal(rd_kafka_query_watermark_offsets(consumer, "t", 0, &low, &high, 60000), 0);
  rd_kafka_mock_broker_set_rtt(mock, 1, 5000);

  weir_fetch_wake_t *w = weir_fetch_wake_new(consumer, 0);
  if (!w) { /* librdkafka >= 2.2 needs no wake */
    skip();
  }
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(consumer, "t", NULL);
  rd_kafka_message_t m = {.rkt = rkt, .partition = 0, .len = 100};
  rd_kafka_message_t *msgs[] = {&m};
  weir_fetch_wake_after_pull(w, msgs, 1, 1000); /* the queue at its threshold */
  assert_int_equal(weir_fetch_wake_count(w), 0);
  weir_fetch_wake_after_pull(w, msgs, 1, 400); /* down to half: wake */
  assert_int_equal(weir_fetch_wake_count(w), 1);
  assert_int_equal(weir_fetch_wake_answered(w), 0);                 /* not waited for */
  for (int i = 0; i < 600 && weir_fetch_wake_answered(w) == 0; i++) /* up to 60 s */
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  assert_int_equal(weir_fetch_wake_answered(w), 1);

  weir_fetch_wake_free(w);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_mock_broker_set_rtt(mock, 1, 0);
  rd_kafka_destroy(consumer);
  rd_kafka_mock_cluster_destroy(mock);
  rd_kafka_destroy(mock_rk);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_by_count),
      cmocka_unit_test(test_by_bytes),
      cmocka_unit_test(test_no_handle),
      cmocka_unit_test(test_wake_does_not_wait_for_the_broker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
