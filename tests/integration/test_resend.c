/* Integration: a delivery report that says delivered but gives no offset.
 * librdkafka 2.0.2 gives one for a batch whose request failed when a later
 * batch of the partition succeeded, and on Kafka 4.4.0 such a batch was not
 * in the log: four records lost, their inputs committed (thread/resend.h).
 * weir sends such a record again, at-least-once. The mock broker checks
 * sequence numbers too strictly to produce such a report, so the test
 * makes thread 0 take its first reports for ones without an offset
 * (WEIR_FAULT_UNCONFIRMED_FIRST): each of those records must then come
 * out twice, whole (key, value, timestamp, headers), and every input at
 * least once. Before the fix each came out once: what the broker had not
 * taken would have been lost. */
#include <librdkafka/rdkafka.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"
#include "support/http_client.h"

#define BASE_TS INT64_C(1700000000000)
#define INPUTS 200

static it_mock_t mock = {.brokers = 1, .capture_log = 1};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* One partition, each input passed through to `out`. */
static const char ini_fmt[] =
    "[weir]\napplication.id = %s\nbootstrap.servers = %s\ncommit.interval.ms = 200\n"
    "state.dir = %s\nhttp.listen = 127.0.0.1:0\n"
    "[kafka]\nqueue.buffering.max.messages = %d\n"
    "[source:in]\ntopic = %s\n"
    "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
    "[sink:out]\ninput = pass\ntopic = %s\n";

/* Inputs "0".."INPUTS-1" on in/0, keyed "k<i>", stamped BASE_TS + i, with a
 * header h=<i>. */
static void send_inputs(const char *bootstrap, const char *topic) {
  char k[16], v[16];
  rd_kafka_t *p = it_producer(bootstrap);
  for (int i = 0; i < INPUTS; i++) {
    snprintf(k, sizeof k, "k%d", i);
    snprintf(v, sizeof v, "%d", i);
    assert_int_equal(it_send(p, topic, 0, k, v, strlen(v), BASE_TS + i, "h", v), 0);
  }
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

/* Each output is its input whole; counts how many times each came out.
 * The mock answers every produce with a log-append time (1234), which
 * librdkafka writes into the report, so a copy sent again from such a
 * report carries the time it was sent: the timestamp is checked on each
 * input's first copy. */
static void read_outputs(const char *bootstrap, const char *out, size_t want, int *seen) {
  static it_record_t got[4 * INPUTS];
  char k[16], h[16];
  memset(seen, 0, INPUTS * sizeof *seen);
  size_t n = it_consume(bootstrap, out, want, got, 4 * INPUTS, IT_WAIT_MS);
  assert_int_equal(n, want);
  for (size_t j = 0; j < n; j++) {
    int i = got[j].value ? atoi(got[j].value) : -1;
    assert_true(i >= 0 && i < INPUTS);
    snprintf(k, sizeof k, "k%d", i);
    snprintf(h, sizeof h, "h=%d", i);
    assert_non_null(got[j].key);
    assert_string_equal(got[j].key, k);
    if (!seen[i]++)
      assert_int_equal(got[j].timestamp, BASE_TS + i);
    else
      assert_true(got[j].timestamp > BASE_TS + INPUTS);
    assert_non_null(got[j].headers);
    assert_string_equal(got[j].headers, h);
  }
  it_records_free(got, n);
}

/* `faults` reports taken for ones without an offset, with a producer queue
 * of `queue` records (a small one makes the resends wait for room). */
static void resend(it_mock_t *c, const char *tag, int queue, int faults) {
  char group[64], in[64], out[64], ini[2048], n[16];
  snprintf(group, sizeof group, "rs-%s", tag);
  snprintf(in, sizeof in, "in-%s", tag);
  snprintf(out, sizeof out, "out-%s", tag);
  snprintf(ini, sizeof ini, ini_fmt, group, c->bootstrap, c->state_dir, queue, in, out);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, in, 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, out, 1, 1), 0);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  send_inputs(c->bootstrap, in);

  snprintf(n, sizeof n, "%d", faults);
  setenv("WEIR_FAULT_UNCONFIRMED_FIRST", n, 1);
  weir_app_t *app = it_start(t, 20000);
  unsetenv("WEIR_FAULT_UNCONFIRMED_FIRST"); /* read as the threads began */
  assert_int_equal(it_wait_committed(c->bootstrap, group, in, INPUTS, IT_WAIT_MS), INPUTS);
  /* Every input committed: every record sent again was acknowledged. */
  static const char sample[] = "\nweir_records_resent_total{thread=\"0\"} ";
  http_answer_t a;
  assert_int_equal(http_get(weir_app_http_port(app), "/metrics", NULL, &a), 200);
  const char *at = strstr(a.body, sample);
  assert_non_null(at);
  assert_int_equal(atoll(at + strlen(sample)), faults);
  http_answer_free(&a);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  assert_int_equal(it_wait_log(c->log_path, "delivered without an offset", NULL, IT_WAIT_MS), 0);

  /* One copy more for each report taken for one without an offset: the
   * first `faults` reports were about the first `faults` inputs (or a copy
   * sent again of one of them, which then comes out three times); the
   * other inputs once. */
  int seen[INPUTS], extra = 0;
  read_outputs(c->bootstrap, out, (size_t)(INPUTS + faults), seen);
  for (int i = 0; i < INPUTS; i++) {
    if (seen[i] < 1 || (i >= faults && seen[i] != 1))
      fail_msg("input %d came out %d time(s)", i, seen[i]);
    extra += seen[i] - 1;
  }
  assert_int_equal(extra, faults);
  weir_topology_free(t);
  it_expect_no_staging();
}

static void test_record_reported_without_offset_is_sent_again(void **state) {
  resend(*state, "once", 100000, 7);
}

/* The reports come while the queue is full (they free room only once
 * served): the records wait, parked, and go out as room frees. */
static void test_resend_waits_for_room_in_a_full_queue(void **state) {
  resend(*state, "full", 5, 40);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, it_mock_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_record_reported_without_offset_is_sent_again),
      T(test_resend_waits_for_room_in_a_full_queue),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
