/* End to end, durable state across a rebalance: two instances of a word
 * count (own state directories) on a 6-partition input, with the
 * repartition topic between its two sub-topologies.
 *
 *   1. A alone counts phase 1;
 *   2. B joins: the tasks spread over both (both log gained tasks), and B
 *      restores the count tasks it gained from the whole changelog (it has no
 *      checkpoint for them); phase 2 is counted by both;
 *   3. A stops with SIGTERM (exit 0): B owns every task, restores A's count
 *      tasks from the whole changelog and its own from their checkpoints
 *      (no "no checkpoint" line for them); phase 3 is counted by B alone;
 *   4. the final counts are exact (phases 1 + 2 + 3), in the output and in
 *      the changelog.
 *
 * On `weir broker` every input is committed before each change of members:
 * librdkafka's mock rejects commits during a rebalance (test_multi_instance.c
 * explains), so what a member processed just before would be processed again
 * and counted twice. Kafka accepts them: there, B joins and A stops as soon as
 * the counts are out, with their last commit still to make. Runs on the real
 * Kafka broker under kafka.sh, else on `weir broker`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state_support.h"

#define PARTITIONS 6
#define TASKS (2 * PARTITIONS) /* sub-topologies 0 (split) and 1 (count) */

static char in[64], out[64], app[64], repartition[128], changelog[128];
static char ini_a[256], ini_b[256], broker_log[256], log_a[256], log_b[256];
static char dir_a[256], dir_b[256];
static e2e_broker_t b;
static proc_t run_a, run_b;
static long long lines; /* input lines produced */

/* 1 when the live instances' tasks are every task exactly once and each
 * live instance has some. */
static int settled(const ss_owned_t *a, int a_live, const ss_owned_t *o_b) {
  if ((a_live && a->n == 0) || o_b->n == 0 || (a_live ? a->n : 0) + o_b->n != TASKS)
    return 0;
  for (int k = 0; a_live && k < a->n; k++)
    if (ss_owns(o_b, a->task[k]))
      return 0;
  return 1;
}

static void wait_settled(int a_live, ss_owned_t *a, ss_owned_t *o_b) {
  long long deadline = e2e_now_ms() + 60000;
  do {
    ss_parse_owned(log_a, 0, a);
    ss_parse_owned(log_b, 0, o_b);
    if (settled(a, a_live, o_b))
      return;
    usleep(100000);
  } while (e2e_now_ms() < deadline);
  for (int k = 0; k < a->n; k++)
    fprintf(stderr, "e2e: A owns %s\n", a->task[k]);
  for (int k = 0; k < o_b->n; k++)
    fprintf(stderr, "e2e: B owns %s\n", o_b->task[k]);
  fail_msg("the tasks did not settle: A owns %d, B owns %d of %d", a_live ? a->n : 0, o_b->n,
           TASKS);
}

/* Phase `phase` counted (phases 1..phase exactly); on `weir broker` also
 * committed, before the members change. */
static void count_phase(rd_kafka_t *prod, int phase, const char *what) {
  int64_t want[SS_WORDS];
  lines += ss_produce_phase(prod, in, PARTITIONS, phase, SS_COMMIT_MS + 100);
  ss_expect(1, phase, want);
  ss_expect_counts(&b, out, PARTITIONS, want, 60000, what);
  if (!b.real)
    assert_int_equal(ss_wait_committed(&b, app, in, lines, repartition, PARTITIONS, E2E_WAIT_MS),
                     0);
}

static void changelog_offsets(rd_kafka_t *rk, int64_t *lo, int64_t *hi) {
  for (int p = 0; p < PARTITIONS; p++)
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, changelog, p, &lo[p], &hi[p], 5000), 0);
}

/* Every count task in `gained` whose changelog partition held records
 * restored from the changelog's start, having no checkpoint. */
static int check_full_restores(const char *who, const ss_restore_t *r, const ss_owned_t *gained,
                               const int64_t *lo, const int64_t *hi) {
  int restored = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    char task[16];
    snprintf(task, sizeof task, "1_%d", p);
    if (!ss_owns(gained, task) || hi[p] == lo[p])
      continue;
    fprintf(stderr,
            "e2e: %s restored task %s: %lld records from %lld to %lld (held [%lld, %lld))\n", who,
            task, r->first[p] ? r->n[p] : -1, r->from[p], r->to[p], (long long)lo[p],
            (long long)hi[p]);
    assert_true(r->first[p]);
    assert_true(r->no_cp[p] >= 1);
    assert_int_equal(r->from[p], lo[p]);
    assert_true(r->to[p] >= hi[p]);
    assert_int_equal(r->n[p], r->to[p] - r->from[p]);
    restored++;
  }
  return restored;
}

static void test_two_instances_rebalance_with_state(void **state) {
  (void)state;
  const char *topics[5];
  int64_t want[SS_WORDS], lo[PARTITIONS], hi[PARTITIONS];
  ss_owned_t a, o_b, a_before, b_before;
  ss_restore_t r;
  long long t0 = e2e_now_ms();
  ss_topics(topics, in, out, repartition, changelog);
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, broker_log), 0);
  assert_int_equal(ss_wait_topics(&b, topics, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(ss_write_ini(ini_a, app, in, out, dir_a), 0);
  assert_int_equal(ss_write_ini(ini_b, app, in, out, dir_b), 0);
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);

  /* 1. A alone. */
  run_a = e2e_weir_run(&b, ini_a, log_a);
  ss_expect_all_tasks(log_a, TASKS, E2E_WAIT_MS);
  count_phase(prod, 1, "phase 1 output (A alone)");
  long long t_phase1 = e2e_now_ms();

  /* 2. B joins: both gain tasks; B restores its count tasks in full. */
  long long a_mark = ss_file_size(log_a);
  changelog_offsets(prod, lo, hi);
  run_b = e2e_weir_run(&b, ini_b, log_b);
  wait_settled(1, &a, &o_b);
  long long t_joined = e2e_now_ms();
  assert_int_equal(ss_wait_gained(log_a, a_mark, 1, 0), 0); /* A got tasks back */
  assert_true(o_b.gains >= 1);
  fprintf(stderr, "e2e: B joined: A owns %d tasks, B %d, %lld ms after phase 1\n", a.n, o_b.n,
          t_joined - t_phase1);
  count_phase(prod, 2, "phase 2 output (A and B)");
  ss_parse_restores(log_b, 0, &r);
  int b_restored = check_full_restores("B (joined)", &r, &o_b, lo, hi);

  /* 3. A stops: B owns all, restores A's count tasks in full, its own from
   * their checkpoints. */
  a_before = a;
  b_before = o_b;
  long long b_mark = ss_file_size(log_b);
  changelog_offsets(prod, lo, hi);
  long long t_term = e2e_now_ms();
  assert_int_equal(proc_stop(&run_a, SIGTERM, 30000), 0);
  wait_settled(0, &a, &o_b);
  long long t_took_over = e2e_now_ms();
  count_phase(prod, 3, "phase 3 output (B alone)");
  ss_parse_restores(log_b, b_mark, &r);
  int a_restored = check_full_restores("B (took over)", &r, &a_before, lo, hi);
  assert_true(b_restored + a_restored > 0);
  for (int p = 0; p < PARTITIONS; p++) {
    char task[16];
    snprintf(task, sizeof task, "1_%d", p);
    if (ss_owns(&b_before, task)) /* checkpointed at the revoke */
      assert_int_equal(r.no_cp[p], 0);
  }

  /* 4. Exact, after B's stop too, in the output and the changelog. */
  assert_int_equal(ss_wait_committed(&b, app, in, lines, repartition, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(proc_stop(&run_b, SIGTERM, 30000), 0);
  ss_expect(1, 3, want);
  ss_expect_counts(&b, out, PARTITIONS, want, 0, "final output");
  ss_expect_counts(&b, changelog, PARTITIONS, want, 0, "final changelog");
  ss_check_changelog_topic(&b, changelog, PARTITIONS);
  fprintf(stderr,
          "e2e: summary: %lld lines; B joined in %lld ms and restored %d count task(s) in full; "
          "A's SIGTERM to B owning all %d tasks: %lld ms, B restored A's %d count task(s) in "
          "full; total %lld ms\n",
          lines, t_joined - t_phase1, b_restored, TASKS, t_took_over - t_term, a_restored,
          e2e_now_ms() - t0);
  rd_kafka_destroy(prod);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "state-rebalance-in-%d", pid);
  snprintf(out, sizeof out, "state-rebalance-out-%d", pid);
  snprintf(app, sizeof app, "e2e-state-rebalance-%d", pid);
  snprintf(repartition, sizeof repartition, "%s-count-repartition", app);
  snprintf(changelog, sizeof changelog, "%s-" SS_STORE "-changelog", app);
  e2e_file(ini_a, sizeof ini_a, "a.ini");
  e2e_file(ini_b, sizeof ini_b, "b.ini");
  e2e_file(broker_log, sizeof broker_log, "broker.log");
  e2e_file(log_a, sizeof log_a, "a.log");
  e2e_file(log_b, sizeof log_b, "b.log");
  e2e_file(dir_a, sizeof dir_a, "state-a");
  e2e_file(dir_b, sizeof dir_b, "state-b");
}

E2E_MAIN("state-rebalance", setup, cmocka_unit_test(test_two_instances_rebalance_with_state))
