/* End to end, durable state: a word count is killed with SIGKILL once its
 * first input is counted and committed, and its state directory is lost.
 * Started again on an empty state directory, it restores every store
 * partition from the whole of its changelog and then counts the rest: the
 * final counts are exact (phase 1 + phase 2, nothing counted twice or lost),
 * and the restore read exactly the records the changelog held. Runs on the
 * real Kafka broker under kafka.sh, else on `weir broker`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state_support.h"

#define PARTITIONS 4

static char in[64], out[64], app[64], repartition[128], changelog[128];
static char ini_path[256], broker_log[256], log1[256], log2[256];
static char dir1[256], dir2[256];
static e2e_broker_t b;
static proc_t run;

/* Each non-empty changelog partition was restored in full from its start,
 * after a "no checkpoint" line. Returns the records restored. */
static long long check_full_restore(const ss_restore_t *r, const int64_t *lo, const int64_t *hi) {
  long long restored = 0, held = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    fprintf(stderr, "e2e: changelog partition %d held [%lld, %lld); restored %lld from %lld\n", p,
            (long long)lo[p], (long long)hi[p], r->first[p] ? r->n[p] : -1,
            r->first[p] ? r->from[p] : -1);
    if (hi[p] == lo[p])
      continue;
    held += hi[p] - lo[p];
    assert_true(r->no_cp[p] >= 1);
    assert_true(r->first[p]);
    assert_int_equal(r->from[p], lo[p]);
    assert_int_equal(r->to[p], hi[p]);
    assert_int_equal(r->n[p], hi[p] - lo[p]);
    restored += r->n[p];
  }
  assert_true(held > 0);
  assert_int_equal(restored, held);
  return restored;
}

static void test_full_restore_after_kill9_and_lost_state_dir(void **state) {
  (void)state;
  const char *topics[5];
  int64_t want[SS_WORDS], lo[PARTITIONS], hi[PARTITIONS];
  long long t0 = e2e_now_ms();
  ss_topics(topics, in, out, repartition, changelog);
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, broker_log), 0);
  assert_int_equal(ss_wait_topics(&b, topics, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(ss_write_ini(ini_path, app, in, out, dir1), 0);
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);

  /* 1. Phase 1, paced over several commits (the changelog gets several
   * values of a word), counted and committed, then SIGKILL: nothing is left
   * to process again, so the counts can be exact. */
  run = e2e_weir_run(&b, ini_path, log1);
  ss_expect_all_tasks(log1, 2 * PARTITIONS, E2E_WAIT_MS);
  long long lines = ss_produce_phase(prod, in, PARTITIONS, 1, SS_COMMIT_MS + 100);
  ss_expect(1, 1, want);
  ss_expect_counts(&b, out, PARTITIONS, want, 60000, "phase 1 output");
  assert_int_equal(ss_wait_committed(&b, app, in, lines, repartition, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(ss_wait_checkpointed(log1, E2E_WAIT_MS), 0);
  assert_int_equal(proc_stop(&run, SIGKILL, 5000), 128 + SIGKILL);
  for (int p = 0; p < PARTITIONS; p++)
    assert_int_equal(rd_kafka_query_watermark_offsets(prod, changelog, p, &lo[p], &hi[p], 5000), 0);
  long long t_killed = e2e_now_ms();

  /* 2. The state directory is lost; phase 2 arrives; start on a new one. */
  assert_int_equal(weir_rm_rf(dir1), 0);
  assert_int_equal(ss_write_ini(ini_path, app, in, out, dir2), 0);
  lines += ss_produce_phase(prod, in, PARTITIONS, 2, 0);
  run = e2e_weir_run(&b, ini_path, log2);
  ss_expect(1, 2, want);
  ss_expect_counts(&b, out, PARTITIONS, want, 60000, "phase 1 + 2 output");
  long long t_counted = e2e_now_ms();
  assert_int_equal(ss_wait_committed(&b, app, in, lines, repartition, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);

  /* 3. Exact after the stop too, in the output and in the changelog. */
  ss_expect_counts(&b, out, PARTITIONS, want, 0, "final output");
  ss_expect_counts(&b, changelog, PARTITIONS, want, 0, "final changelog");
  ss_restore_t r;
  ss_parse_restores(log2, 0, &r);
  long long restored = check_full_restore(&r, lo, hi);
  ss_check_changelog_topic(&b, changelog, PARTITIONS);
  fprintf(stderr,
          "e2e: summary: %lld lines; second run restored %lld records in %d restore line(s) "
          "(%d \"no checkpoint\", %d tasks ready); counted 1 + 2 exactly %lld ms after the "
          "restart; total %lld ms\n",
          lines, restored, r.lines, r.no_checkpoint, r.ready, t_counted - t_killed,
          e2e_now_ms() - t0);
  rd_kafka_destroy(prod);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "state-full-in-%d", pid);
  snprintf(out, sizeof out, "state-full-out-%d", pid);
  snprintf(app, sizeof app, "e2e-state-full-%d", pid);
  snprintf(repartition, sizeof repartition, "%s-count-repartition", app);
  snprintf(changelog, sizeof changelog, "%s-" SS_STORE "-changelog", app);
  e2e_file(ini_path, sizeof ini_path, "run.ini");
  e2e_file(broker_log, sizeof broker_log, "broker.log");
  e2e_file(log1, sizeof log1, "run1.log");
  e2e_file(log2, sizeof log2, "run2.log");
  e2e_file(dir1, sizeof dir1, "state1");
  e2e_file(dir2, sizeof dir2, "state2");
}

E2E_MAIN("state-full", setup, cmocka_unit_test(test_full_restore_after_kill9_and_lost_state_dir))
