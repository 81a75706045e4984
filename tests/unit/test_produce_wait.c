/* A produce failure is the producer's, never the record's: whatever
 * processing.error.policy says, the input holds its commit position. The
 * producer here has a queue of one record and no reachable broker, so the
 * second record finds the queue full for good. Before the fix the wait for
 * room had no end (the test hung), and at a stop the record was skipped (or
 * its failed dead-letter produce fell through to "skipped"), so the commit
 * position passed an input whose output was never produced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "state/state_db.h"
#include "support/tmpdir.h"
#include "task/task.h"
#include "util/fs.h"

typedef struct {
  weir_topology_t *topo;
  rd_kafka_t *producer;
  atomic_int stopping;
  weir_task_env_t env;
  const char **topics;
  size_t topic_count;
  weir_task_t *task;
  char dir[512]; /* state.dir, for the stateful test */
  weir_state_db_t *db;
  weir_cache_budget_t budget;
} fx_t;

/* A source passed straight to a sink; max.poll.interval.ms = 400 makes the
 * wait bound 200 ms. With dead_letter, the sink refuses every input (a
 * string where int64 is declared) and the policy sends it on. */
static const char ini_fmt[] = "[weir]\napplication.id = pw\nbootstrap.servers = 127.0.0.1:1\n"
                              "processing.error.policy = %s\ndead.letter.topic = dlq\n"
                              "[kafka]\nmax.poll.interval.ms = 400\n"
                              "[source:in]\ntopic = in\n"
                              "[sink:out]\ninput = in\ntopic = out\nvalue.serde = %s\n";

/* A count per key, its store logged to a changelog. */
static const char counting_ini[] = "[weir]\napplication.id = pw\nbootstrap.servers = 127.0.0.1:1\n"
                                   "[kafka]\nmax.poll.interval.ms = 400\n"
                                   "[source:in]\ntopic = in\n"
                                   "[operator:count]\nplugin = std\ntype = count\ninput = in\n"
                                   "store = counts\n[store:counts]\ntype = kv\n"
                                   "[sink:out]\ninput = count\ntopic = out\n";

enum { SKIP, DEAD_LETTER, COUNTING };

static weir_topology_t *build(int kind) {
  char ini[1024];
  weir_diag_t d = {0};
  if (kind == COUNTING) {
    char set[1024];
    snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
    weir_cfg_t *cfg = weir_cfg_load_string("pw.ini", counting_ini, &d);
    weir_cfg_override(cfg, set, &d);
    weir_topology_t *t = d.count ? NULL : weir_topology_build(cfg, NULL, &d);
    weir_diag_print(&d, stderr);
    weir_diag_free(&d);
    weir_cfg_free(cfg);
    return t;
  }
  snprintf(ini, sizeof ini, ini_fmt, kind == DEAD_LETTER ? "dead-letter" : "skip",
           kind == DEAD_LETTER ? "int64" : "string");
  weir_cfg_t *cfg = weir_cfg_load_string("pw.ini", ini, &d);
  weir_topology_t *t = d.count ? NULL : weir_topology_build(cfg, NULL, &d);
  weir_diag_print(&d, stderr);
  weir_diag_free(&d);
  weir_cfg_free(cfg);
  return t;
}

static rd_kafka_t *tiny_producer(void) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", NULL, 0);
  rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1", NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
  return rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
}

static fx_t *open_fx(int kind) {
  char err[512];
  fx_t *fx = calloc(1, sizeof *fx);
  int dead_letter = kind == DEAD_LETTER;
  fx->topo = build(kind);
  assert_non_null(fx->topo);
  fx->producer = tiny_producer();
  assert_non_null(fx->producer);
  atomic_init(&fx->stopping, 0);
  fx->env =
      (weir_task_env_t){.producer = fx->producer, .topo = fx->topo, .stopping = &fx->stopping};
  if (kind == COUNTING) {
    assert_non_null(weir_test_tmpdir(fx->dir, sizeof fx->dir, "weir-pw"));
    fx->db = weir_state_db_open(fx->dir, "pw", 16, NULL, err, sizeof err);
    assert_non_null(fx->db);
    atomic_init(&fx->budget.used, 0);
    fx->budget.max = 1 << 20;
    fx->env.state_db = fx->db;
    fx->env.cache_budget = &fx->budget;
  }
  if (dead_letter)
    fx->env.dead_letter = rd_kafka_topic_new(fx->producer, "dlq", NULL);
  fx->topics = weir_topology_source_topics(fx->topo, &fx->topic_count);
  assert_int_equal(fx->topic_count, 1);
  assert_int_equal(weir_task_env_map_topics(&fx->env, fx->topo, fx->topics, fx->topic_count), 0);
  uint32_t slot = 0;
  fx->task = weir_task_new(&fx->env, 0, 0, 1, &slot);
  assert_non_null(fx->task);
  assert_int_equal(weir_task_open(fx->task, err, sizeof err), 0);
  return fx;
}

static void close_fx(fx_t *fx) {
  weir_task_close(fx->task);
  weir_task_free(fx->task);
  weir_task_env_unmap_topics(&fx->env, fx->topic_count);
  free(fx->topics);
  if (fx->env.dead_letter)
    rd_kafka_topic_destroy(fx->env.dead_letter);
  rd_kafka_purge(fx->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_destroy(fx->producer);
  weir_topology_free(fx->topo);
  if (fx->db)
    weir_state_db_close(fx->db);
  if (fx->dir[0])
    weir_rm_rf(fx->dir);
  free(fx);
}

static int process_key(fx_t *fx, int64_t offset, const char *key) {
  weir_input_t in = {NULL, "in", 0, offset, 1700000000000, key, strlen(key), "v", 1, NULL, 0};
  return weir_task_process_input(fx->task, 0, &in);
}

static int process(fx_t *fx, int64_t offset) {
  return process_key(fx, offset, "k");
}

/* Record 0 fills the queue; record 1 cannot be produced. Once record 0 is
 * acknowledged, the commit position is record 1's offset: held. */
static void first_acked_then_position(fx_t *fx, int64_t want) {
  weir_offset_tracker_t *tr = &fx->task->trackers[0];
  weir_offset_tracker_ack(tr, tr->head_seq, 0); /* record 0's delivery report */
  assert_int_equal(weir_offset_tracker_position(tr), want);
}

static void test_full_queue_fails_the_task_at_the_bound(void **state) {
  (void)state;
  fx_t *fx = open_fx(SKIP);
  assert_int_equal(process(fx, 0), 0);
  assert_int_equal(process(fx, 1), -1); /* skip does not apply */
  assert_non_null(strstr(fx->task->error, "in/0@1"));
  assert_non_null(strstr(fx->task->error, "out: the producer queue stayed full for 200 ms"));
  assert_non_null(strstr(fx->task->error, "topic 'out'"));
  first_acked_then_position(fx, 1);
  close_fx(fx);
}

static void test_stop_while_queue_full_holds_the_record(void **state) {
  (void)state;
  fx_t *fx = open_fx(SKIP);
  assert_int_equal(process(fx, 0), 0);
  atomic_store(&fx->stopping, 1);
  assert_int_equal(process(fx, 1), 0); /* a plain stop is no failure */
  assert_string_equal(fx->task->error, "");
  first_acked_then_position(fx, 1);
  close_fx(fx);
}

static void test_failed_dead_letter_is_not_skipped(void **state) {
  (void)state;
  fx_t *fx = open_fx(DEAD_LETTER);
  assert_int_equal(process(fx, 0), 0); /* dead-lettered: the queue is full */
  assert_int_equal(process(fx, 1), -1);
  assert_non_null(strstr(fx->task->error, "in/0@1"));
  assert_non_null(strstr(fx->task->error, "dead-letter: the producer queue stayed full"));
  assert_non_null(strstr(fx->task->error, "topic 'dlq'"));
  first_acked_then_position(fx, 1);
  close_fx(fx);
}

/* A commit's changelog writes wait for room as outputs do, up to the same
 * bound; then the flush fails, naming the changelog and its partition, and
 * the commit goes no further (before the fix the wait had no end). */
static void test_full_queue_fails_the_changelog_flush_at_the_bound(void **state) {
  (void)state;
  fx_t *fx = open_fx(COUNTING);
  /* Two dirty counts (count forwards at the commit's flush, not here): the
   * first changelog record fills the queue. */
  assert_int_equal(process_key(fx, 0, "a"), 0);
  assert_int_equal(process_key(fx, 1, "b"), 0);
  assert_int_equal(weir_task_flush_stores(fx->task), -1);
  assert_non_null(strstr(fx->task->error, "changelog 'pw-counts-changelog' [0]"));
  assert_non_null(strstr(fx->task->error, "the producer queue stayed full for 200 ms"));
  close_fx(fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_queue_fails_the_task_at_the_bound),
      cmocka_unit_test(test_stop_while_queue_full_holds_the_record),
      cmocka_unit_test(test_failed_dead_letter_is_not_skipped),
      cmocka_unit_test(test_full_queue_fails_the_changelog_flush_at_the_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
