/* Integration: a Kafka client error that librdkafka retries (here: the only
 * broker goes down) is warned once per episode, naming the client, however
 * often it repeats (issue 12, item 9a). Before, on_error logged these two
 * codes at every report and dropped every other code (authentication, TLS,
 * authorization) without a line. The log (stderr) goes to a file the test
 * reads; the repeats are seen in weir's debug lines, so the test waits for
 * events, never for a time. */
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"

/* What the clients said, for whoever reads a failure. */
static int show(const char *line) {
  return strstr(line, "Kafka ") && !strstr(line, "DEBUG");
}

/* The log (stderr) to a file, debug lines included. */
static it_mock_t mock = {.brokers = 1, .capture_log = 1, .debug = 1, .show = show};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* Fast reconnects: many reports of the same error in little time. */
static const char ini_fmt[] = "[weir]\napplication.id = ce\nbootstrap.servers = %s\n"
                              "[kafka]\nreconnect.backoff.ms = 10\nreconnect.backoff.max.ms = 50\n"
                              "[source:in]\ntopic = ce-in\n"
                              "[sink:out]\ninput = in\ntopic = ce-out\n";

static void send_one(const char *bootstrap) {
  rd_kafka_t *p = it_producer(bootstrap);
  assert_int_equal(it_send(p, "ce-in", 0, "k", "v", 1, 1700000000000, NULL, NULL), 0);
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

/* The only broker goes down: each client warns once, naming itself and
 * what to do; once the broker is back and a record goes through, the
 * producer says it works again, which ends the episode. */
static void test_broker_down_warned_once_until_it_works(void **state) {
  it_mock_t *c = *state;
  char ini[1024];
  snprintf(ini, sizeof ini, ini_fmt, c->bootstrap);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ce-in", 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "ce-out", 1, 1), 0);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  weir_app_t *app = it_start(t, 5000);
  send_one(c->bootstrap);
  assert_int_equal(it_wait_processed(app, 1, IT_WAIT_MS), 0);

  rd_kafka_mock_broker_set_down(c->mc, 1);
  it_log_lines_t down = {c->log_path, "WARN", "Kafka producer ce-StreamThread-1",
                         "bootstrap.servers", 1};
  int waited_down = it_wait_until(it_log_lines_reached, &down, IT_WAIT_MS);
  rd_kafka_mock_broker_set_up(c->mc, 1);
  send_one(c->bootstrap);
  it_log_lines_t back = {c->log_path, "INFO", "Kafka producer ce-StreamThread-1", "works again", 1};
  int waited_back = it_wait_until(it_log_lines_reached, &back, IT_WAIT_MS);
  weir_app_stop(app);
  weir_app_join(app);
  weir_app_free(app);
  weir_topology_free(t);
  it_expect_no_staging();
  it_records_free(NULL, 0); /* it_support.h's: every includer uses it */
  assert_int_equal(waited_down, 0);
  assert_int_equal(waited_back, 0);
  /* One warning per code and client, however often librdkafka reported it. */
  assert_int_equal(
      it_log_count(c->log_path, "WARN", "Kafka producer", "(Local: Broker transport failure)"), 1);
  assert_in_range(
      it_log_count(c->log_path, "WARN", "Kafka consumer", "(Local: Broker transport failure)"), 0,
      1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_broker_down_warned_once_until_it_works, setup,
                                      it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
