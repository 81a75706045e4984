/* Integration: weir_partitions_wait_ready (kafka/partitions_ready.h) waits
 * until the leader of every partition of the topics weir writes answers for
 * it, as Kafka's does once the partition's log exists, and says which
 * partition it gave up on. The mock broker stands in for a broker still
 * creating logs with ListOffsets requests refused ("not leader") a number of
 * times; a partition without a leader is not waited for. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "it_mock.h"
#include "it_support.h"
#include "kafka/partitions_ready.h"

/* Kafka's ApiKey of ListOffsets (librdkafka's rdkafka_protocol.h, which
 * names it, is not installed). */
enum { KAFKA_API_LIST_OFFSETS = 2 };

static it_mock_t mock = {.brokers = 1, .capture_log = 1};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

/* The mock's next `count` ListOffsets requests refused with "not leader". */
static void refuse_list_offsets(it_mock_t *c, size_t count) {
  static rd_kafka_resp_err_t refused[100000];
  assert_true(count <= sizeof refused / sizeof *refused);
  for (size_t i = 0; i < count; i++)
    refused[i] = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
  rd_kafka_mock_push_request_errors_array(c->mc, KAFKA_API_LIST_OFFSETS, count, refused);
}

static const rd_kafka_metadata_t *metadata(rd_kafka_t *rk) {
  const rd_kafka_metadata_t *md = NULL;
  assert_int_equal(rd_kafka_metadata(rk, 1, NULL, &md, IT_WAIT_MS), 0);
  return md;
}

/* Every partition led: 0 at once. A topic named twice is asked once (the
 * broker refuses a request naming a partition twice), and a topic the
 * metadata lacks is skipped. */
static void test_led_partitions_are_ready(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-out", 3, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-changelog", 2, 1), 0);
  rd_kafka_t *rk = it_producer(c->bootstrap);
  const rd_kafka_metadata_t *md = metadata(rk);
  const char *topics[] = {"pr-out", "pr-changelog", "pr-out", "pr-absent"};
  char why[256] = "";
  assert_int_equal(weir_partitions_wait_ready(rk, md, topics, 4, IT_WAIT_MS, NULL, why, sizeof why),
                   0);
  assert_string_equal(why, "");
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  it_records_free(NULL, 0); /* it_support.h's: every includer uses it */
}

/* A partition the metadata shows without a leader is not one being created:
 * it is skipped (its records wait in the producer's queue), and the others
 * of its topic are ready. */
static void test_a_leaderless_partition_is_skipped(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-leaderless", 3, 1), 0);
  assert_int_equal(rd_kafka_mock_partition_set_leader(c->mc, "pr-leaderless", 2, -1), 0);
  rd_kafka_t *rk = it_producer(c->bootstrap);
  const rd_kafka_metadata_t *md = metadata(rk);
  const char *topics[] = {"pr-leaderless"};
  char why[256] = "";
  assert_int_equal(weir_partitions_wait_ready(rk, md, topics, 1, IT_WAIT_MS, NULL, why, sizeof why),
                   0);
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
}

/* A leader that keeps refusing: the wait gives up at its timeout and says
 * with what, naming a partition of the topic. */
static void test_a_wait_gives_up_at_its_timeout(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-refusing", 2, 1), 0);
  rd_kafka_t *rk = it_producer(c->bootstrap);
  const rd_kafka_metadata_t *md = metadata(rk);
  refuse_list_offsets(c, 5000);
  const char *topics[] = {"pr-refusing"};
  char why[256] = "";
  assert_int_equal(weir_partitions_wait_ready(rk, md, topics, 1, 1500, NULL, why, sizeof why), 2);
  assert_non_null(strstr(why, rd_kafka_err2str(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)));
  assert_non_null(strstr(why, "of topic 'pr-refusing' among them"));
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
}

/* A leader refusing ListOffsets ("not leader", as Kafka's answers while the
 * log is being created) more times than librdkafka retries one request
 * (twice): the wait asks again until the answers come. */
static void test_refused_answers_are_asked_again(void **state) {
  it_mock_t *c = *state;
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-refused", 4, 1), 0);
  rd_kafka_t *rk = it_producer(c->bootstrap);
  const rd_kafka_metadata_t *md = metadata(rk);
  refuse_list_offsets(c, 40);
  const char *topics[] = {"pr-refused"};
  char why[256] = "";
  int rounds = 0;
  assert_int_equal(
      weir_partitions_wait_ready(rk, md, topics, 1, IT_WAIT_MS, &rounds, why, sizeof why), 0);
  assert_true(rounds > 1);
  rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
}

static const char ini_fmt[] =
    "[weir]\napplication.id = pr-app\nbootstrap.servers = %s\nstate.dir = %s\n"
    "commit.interval.ms = 200\n"
    "[source:in]\ntopic = pr-in\n"
    "[operator:count]\nplugin = std\ntype = count\ninput = in\nstore = counts\n"
    "[store:counts]\ntype = kv\n"
    "[sink:out]\ninput = count\ntopic = pr-out\nvalue.serde = int64\n";

/* weir_app_start with `refusals` ListOffsets refused ahead of it (cleared
 * once it returned), `want` in its log, then each input key's count out. */
static void start_and_count(it_mock_t *c, int refusals, const char *want) {
  char ini[1024];
  snprintf(ini, sizeof ini, ini_fmt, c->bootstrap, c->state_dir);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-in", 2, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-out", 2, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, "pr-app-counts-changelog", 2, 1), 0);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  refuse_list_offsets(c, (size_t)refusals);
  weir_app_t *app = it_start(t, IT_WAIT_MS);
  rd_kafka_mock_clear_request_errors(c->mc, KAFKA_API_LIST_OFFSETS);
  assert_true(it_log_has(c->log_path, want, NULL));
  rd_kafka_t *p = it_producer(c->bootstrap);
  const char *keys[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++)
    assert_int_equal(it_send(p, "pr-in", 0, keys[i], "x", 1, 1700000000000 + i, NULL, NULL), 0);
  assert_int_equal(rd_kafka_flush(p, IT_WAIT_MS), 0);
  rd_kafka_destroy(p);
  it_record_t got[8];
  size_t n = it_consume(c->bootstrap, "pr-out", 3, got, 8, IT_WAIT_MS);
  assert_int_equal(n, 3);
  int seen[3] = {0};
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(it_be64(got[i].value, got[i].value_len), 1);
    for (int k = 0; k < 3; k++)
      seen[k] += strcmp(got[i].key, keys[k]) == 0;
  }
  assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
  it_records_free(got, n);
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
}

/* weir_app_start waits for the topics the app writes (its sink and its
 * store's changelog) until their leaders stop refusing, and logs that it
 * did. */
static void test_weir_starts_once_its_outputs_take_records(void **state) {
  start_and_count(*state, 10, "for the partitions of the topics weir writes on");
}

/* Leaders that refuse past the wait's 15 s: weir says so and starts all the
 * same; once they take records, so does weir. */
static void test_weir_starts_all_the_same_after_the_wait(void **state) {
  start_and_count(*state, 100000,
                  "were not all confirmed to take records within 15 s (4 unconfirmed: ");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_led_partitions_are_ready, setup, it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_a_leaderless_partition_is_skipped, setup,
                                      it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_a_wait_gives_up_at_its_timeout, setup, it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_refused_answers_are_asked_again, setup,
                                      it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_weir_starts_once_its_outputs_take_records, setup,
                                      it_mock_teardown),
      cmocka_unit_test_setup_teardown(test_weir_starts_all_the_same_after_the_wait, setup,
                                      it_mock_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
