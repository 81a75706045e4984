/* Integration: produce failures under a full producer queue, on a mock
 * cluster the test owns so it can take the output partition's leader away
 * (its records then stay queued and a tiny queue.buffering.max.messages
 * fills). A produce failure is the producer's, never the record's: with
 * processing.error.policy = skip it must still hold the input's offset —
 * before the fix a stop made every blocked or later produce return "queue
 * full" at once, the records were skipped, and the shutdown committed past
 * inputs whose outputs were never produced. And the wait for room has a
 * bound: before the fix it had none, the thread never came back to its
 * poll, and the app neither processed nor stopped. */
#include <fcntl.h>
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
#define INPUTS 30

/* weir logs one line per event on stderr: the test reads it from a file,
 * all of it shown with the test's output. */
static it_mock_t mock = {.brokers = 1, .capture_log = 1};

static int setup(void **state) {
  return it_mock_setup(&mock, state);
}

static int wait_log(const it_mock_t *c, const char *a, const char *b) {
  return it_wait_log(c->log_path, a, b, IT_WAIT_MS);
}

/* One partition everywhere, each input passed through to `out`; a producer
 * queue of 5 records; a short session, because the mock lets a restarted
 * app in only once the old member expired. */
static const char ini_fmt[] =
    "[weir]\napplication.id = %s\nbootstrap.servers = %s\ncommit.interval.ms = 200\n"
    "state.dir = %s\nprocessing.error.policy = %s\ndead.letter.topic = %s\n"
    "[kafka]\nqueue.buffering.max.messages = 5\nsession.timeout.ms = 6000\n"
    "max.poll.interval.ms = %d\n"
    "[source:in]\ntopic = %s\n"
    "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
    "[sink:out]\ninput = pass\ntopic = %s\nvalue.serde = %s\n";

/* What a test runs: the inputs go to `out`, or, with dead_letter, every one
 * fails (a string where the sink declares int64) and goes to `dlq`. A bad
 * record is skipped or dead-lettered: the policies a produce failure must
 * not follow. */
typedef struct {
  const char *group, *in, *out, *dlq;
  int max_poll_ms;
  int dead_letter;
} scenario_t;

/* Where the inputs come out, unchanged. */
static const char *dest(const scenario_t *s) {
  return s->dead_letter ? s->dlq : s->out;
}

static weir_topology_t *topology(const it_mock_t *c, const scenario_t *s) {
  char ini[2048];
  snprintf(ini, sizeof ini, ini_fmt, s->group, c->bootstrap, c->state_dir,
           s->dead_letter ? "dead-letter" : "skip", s->dlq, s->max_poll_ms, s->in, s->out,
           s->dead_letter ? "int64" : "string");
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, s->in, 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, s->out, 1, 1), 0);
  assert_int_equal(rd_kafka_mock_topic_create(c->mc, s->dlq, 1, 1), 0);
  weir_topology_t *t = it_topology(ini);
  assert_non_null(t);
  return t;
}

/* Inputs "0".."INPUTS-1" on in/0. */
static void send_inputs(const char *bootstrap, const char *topic) {
  char v[16];
  rd_kafka_t *p = it_producer(bootstrap);
  for (int i = 0; i < INPUTS; i++) {
    snprintf(v, sizeof v, "%d", i);
    assert_int_equal(it_send(p, topic, 0, NULL, v, strlen(v), BASE_TS + i, NULL, NULL), 0);
  }
  assert_int_equal(rd_kafka_flush(p, 10000), 0);
  rd_kafka_destroy(p);
}

typedef struct {
  int seen[INPUTS];
} outputs_t;

/* Which inputs have an output in `out` (once at least `want` records are). */
static void read_outputs(const char *bootstrap, const char *out, size_t want, outputs_t *o) {
  static it_record_t got[4 * INPUTS];
  memset(o, 0, sizeof *o);
  size_t n = it_consume(bootstrap, out, want, got, 4 * INPUTS, IT_WAIT_MS);
  for (size_t k = 0; k < n; k++) {
    int i = got[k].value ? atoi(got[k].value) : -1;
    if (i >= 0 && i < INPUTS)
      o->seen[i]++;
  }
  it_records_free(got, n);
}

/* The inputs sent, `topic`'s partition left without a leader (its records
 * wait in the producer queue), and the app started. */
static weir_app_t *start_leaderless(it_mock_t *c, const scenario_t *s, const char *topic,
                                    weir_topology_t **t) {
  *t = topology(c, s);
  send_inputs(c->bootstrap, s->in);
  rd_kafka_mock_partition_set_leader(c->mc, topic, 0, -1);
  return it_start(*t, 20000);
}

/* A stop while the queue is full (the destination partition has no
 * leader): the record waiting for room, and every later one, is not skipped:
 * the commit stays before it, though the policy is skip (or dead-letter) and
 * the queued records are delivered during the shutdown (the leader comes
 * back). After a restart, every input has its output. */
static void stop_with_full_queue(it_mock_t *c, const scenario_t *s) {
  weir_topology_t *t;
  weir_app_t *app = start_leaderless(c, s, dest(s), &t);
  /* Blocked on the full queue: logged after 1 s (since the fix; before it,
   * nothing is logged, and the wait just runs out). */
  wait_log(c, "the producer queue has been full", NULL);
  weir_app_stop(app);
  /* The record that waited is held (fixed) or skipped (before the fix). */
  assert_int_equal(wait_log(c, "is not finished", "; skipped"), 0);
  rd_kafka_mock_partition_set_leader(c->mc, dest(s), 0, 1);
  assert_int_equal(weir_app_join(app), 0); /* a plain stop is no failure */
  weir_app_free(app);

  int64_t committed = it_committed(c->bootstrap, s->group, s->in, 0);
  outputs_t o;
  read_outputs(c->bootstrap, dest(s), committed > 0 ? (size_t)committed : 0, &o);
  assert_true(committed < INPUTS); /* the queue held 5: the rest never went out */
  for (int64_t i = 0; i < committed; i++)
    if (!o.seen[i])
      fail_msg("input %lld is committed (offset %lld) but its output was never produced",
               (long long)i, (long long)committed);

  app = it_start(t, 20000);
  assert_int_equal(it_wait_committed(c->bootstrap, s->group, s->in, INPUTS, IT_WAIT_MS), INPUTS);
  read_outputs(c->bootstrap, dest(s), INPUTS, &o);
  for (int i = 0; i < INPUTS; i++)
    if (!o.seen[i])
      fail_msg("input %d has no output in %s after the restart", i, dest(s));
  weir_app_stop(app);
  assert_int_equal(weir_app_join(app), 0);
  weir_app_free(app);
  weir_topology_free(t);
  it_expect_no_staging();
}

static void test_stop_with_full_queue_skips_nothing(void **state) {
  const scenario_t s = {"pf-stop", "in-stop", "out-stop", "dlq-stop", 300000, 0};
  stop_with_full_queue(*state, &s);
}

/* Before the fix a dead-letter produce that failed fell through to
 * "skipped". */
static void test_stop_with_full_dead_letter_queue_skips_nothing(void **state) {
  const scenario_t s = {"pf-dlq", "in-dlq", "out-dlq", "dlq-dlq", 300000, 1};
  stop_with_full_queue(*state, &s);
}

/* The queue stays full (no leader): the wait for room ends at its bound,
 * half of max.poll.interval.ms, before the group would evict the thread;
 * the app stops with the input and the output topic named, and commits
 * nothing past the record — the policy (skip) does not apply. */
static void test_full_queue_wait_is_bounded(void **state) {
  it_mock_t *c = *state;
  const scenario_t s = {"pf-bound", "in-bound", "out-bound", "dlq-bound", 8000, 0};
  weir_topology_t *t;
  weir_app_t *app = start_leaderless(c, &s, s.out, &t);
  assert_int_equal(weir_app_wait_stop(app, IT_WAIT_MS), 1);
  assert_int_equal(weir_app_join(app), 1);
  weir_app_free(app);
  assert_int_equal(wait_log(c, "the producer queue stayed full for 4000 ms", NULL), 0);
  assert_int_equal(wait_log(c, "cannot produce the outputs of in-bound/0@", NULL), 0);
  assert_int_equal(wait_log(c, "topic 'out-bound'", NULL), 0);
  int64_t committed = it_committed(c->bootstrap, s.group, s.in, 0);
  assert_true(committed < 5); /* nothing was delivered: nothing is committed */
  weir_topology_free(t);
  it_expect_no_staging();
}

/* A wait for room that lasts is logged after 1 s and again every 10 s
 * (the README's promise): an operator sees it go on, and a test that froze
 * the broker sees a wait begun before the freeze continue (e2e/test_faults
 * b). The bound here is 15 s, so the wait lasts past the second line. */
static void test_long_wait_for_room_is_logged_again(void **state) {
  it_mock_t *c = *state;
  const scenario_t s = {"pf-again", "in-again", "out-again", "dlq-again", 30000, 0};
  weir_topology_t *t;
  weir_app_t *app = start_leaderless(c, &s, s.out, &t);
  it_log_lines_t twice = {c->log_path, "the producer queue has been full for ", NULL, NULL, 2};
  assert_int_equal(it_wait_until(it_log_lines_reached, &twice, IT_WAIT_MS), 0);
  weir_app_stop(app);
  rd_kafka_mock_partition_set_leader(c->mc, s.out, 0, 1);
  assert_int_equal(weir_app_join(app), 0); /* a plain stop is no failure */
  weir_app_free(app);
  weir_topology_free(t);
  it_expect_no_staging();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, it_mock_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_stop_with_full_queue_skips_nothing),
      T(test_stop_with_full_dead_letter_queue_skips_nothing),
      T(test_full_queue_wait_is_bounded),
      T(test_long_wait_for_room_is_logged_again),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
