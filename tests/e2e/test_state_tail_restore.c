/* End to end, durable state: an instance that comes back on its own state
 * directory restores only the changelog's tail past its checkpoints, never
 * the whole changelog. Stores are checkpointed at every commit.
 *
 *   1. A counts phase 1; once that is committed, SIGKILL;
 *   2. A starts again on the same directory (phase 2 arrived meanwhile): no
 *      store partition lacks a checkpoint, and, the kill having come after
 *      the commit's checkpoint ("stores checkpointed" in the log), nothing
 *      is restored; phases 1 + 2 are counted exactly; SIGTERM;
 *   3. B, on a directory of its own, takes over while A is down: it restores
 *      the whole changelog and counts phase 3, writing past A's checkpoints;
 *      SIGTERM;
 *   4. A starts again on its directory: each store partition restores
 *      exactly [A's checkpoint = the changelog's end at A's stop, the end at
 *      B's stop), no more; phases 1 to 4 are counted exactly.
 *
 * And with `state.wal = false` (its own topics and directory): after the
 * SIGKILL, A comes back to RocksDB's last flush, so each store partition
 * restores its changelog from a checkpoint before the kill's end to that
 * end, and phases 1 + 2 are still counted exactly; stopped by SIGTERM
 * (a close flushes) and started again, it restores nothing and counts
 * phase 3 on top.
 *
 * Runs on the real Kafka broker under kafka.sh, else on `weir broker`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state_support.h"

#define PARTITIONS 4
#define TASKS (2 * PARTITIONS) /* sub-topologies 0 (split) and 1 (count) */

static char in[64], out[64], app[64], repartition[128], changelog[128];
static char ini_a[256], ini_b[256], broker_log[256], logs[7][256];
static char dir_a[256], dir_b[256];
static e2e_broker_t b;
static proc_t run;
static rd_kafka_t *prod;
static long long lines; /* input lines produced */

static int test_pid;

/* Each test's own topics, application and state directories. */
static void names(const char *variant) {
  snprintf(in, sizeof in, "state-tail%s-in-%d", variant, test_pid);
  snprintf(out, sizeof out, "state-tail%s-out-%d", variant, test_pid);
  snprintf(app, sizeof app, "e2e-state-tail%s-%d", variant, test_pid);
  snprintf(repartition, sizeof repartition, "%s-count-repartition", app);
  snprintf(changelog, sizeof changelog, "%s-" SS_STORE "-changelog", app);
  char name[32];
  snprintf(name, sizeof name, "state-a%s", variant);
  e2e_file(dir_a, sizeof dir_a, name);
  snprintf(name, sizeof name, "state-b%s", variant);
  e2e_file(dir_b, sizeof dir_b, name);
  lines = 0;
}

/* Run an instance until it counted phases 1..phase exactly and committed
 * them, then stop it with `sig`. Phase 1 is produced once it owns every
 * task, paced over several commits (the changelog gets several values of a
 * word); later phases arrive while no instance runs. */
static void count_phase(const char *ini, const char *log, int phase, int sig) {
  int64_t want[SS_WORDS];
  char what[64];
  if (phase > 1)
    lines += ss_produce_phase(prod, in, PARTITIONS, phase, 0);
  run = e2e_weir_run(&b, ini, log);
  if (phase == 1) {
    ss_expect_all_tasks(log, TASKS, E2E_WAIT_MS);
    lines += ss_produce_phase(prod, in, PARTITIONS, phase, SS_COMMIT_MS + 100);
  }
  snprintf(what, sizeof what, "phases 1 to %d output", phase);
  ss_expect(1, phase, want);
  ss_expect_counts(&b, out, PARTITIONS, want, 60000, what);
  assert_int_equal(ss_wait_committed(&b, app, in, lines, repartition, PARTITIONS, E2E_WAIT_MS), 0);
  if (sig == SIGKILL)
    assert_int_equal(ss_wait_checkpointed(log, E2E_WAIT_MS), 0);
  assert_int_equal(proc_stop(&run, sig, 30000), sig == SIGKILL ? 128 + SIGKILL : 0);
}

static long long changelog_ends(int64_t *lo, int64_t *hi) {
  long long held = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    assert_int_equal(rd_kafka_query_watermark_offsets(prod, changelog, p, &lo[p], &hi[p], 5000), 0);
    held += hi[p] - lo[p];
  }
  return held;
}

/* Step 2: the kill came after the commit's checkpoint (ss_wait_checkpointed),
 * so every store partition's checkpoint is its changelog's end at the kill:
 * nothing past it to restore. */
static void check_after_kill(const ss_restore_t *r, const int64_t *at_kill, long long held) {
  for (int p = 0; p < PARTITIONS; p++) {
    fprintf(stderr, "e2e: partition %d: changelog end at the kill %lld; restored %lld from %lld\n",
            p, (long long)at_kill[p], r->first[p] ? r->n[p] : 0, r->first[p] ? r->from[p] : -1);
    assert_int_equal(r->no_cp[p], 0);
    /* A store found up to date says so, with where its checkpoint is. */
    assert_int_equal(r->first[p], at_kill[p] > 0);
    if (r->first[p]) {
      assert_int_equal(r->from[p], at_kill[p]);
      assert_int_equal(r->n[p], 0);
    }
  }
  assert_true(held > 0);
  assert_int_equal(r->records, 0);
}

/* Step 3: B had nothing: each non-empty partition restored from its start. */
static void check_full(const ss_restore_t *r, const int64_t *lo, const int64_t *hi) {
  for (int p = 0; p < PARTITIONS; p++)
    if (hi[p] > lo[p]) {
      assert_true(r->no_cp[p] >= 1);
      assert_true(r->first[p]);
      assert_int_equal(r->from[p], lo[p]);
      assert_int_equal(r->to[p], hi[p]);
      assert_int_equal(r->n[p], hi[p] - lo[p]);
    }
}

/* Step 4: exactly what B wrote after A's stop, where A's checkpoint was. */
static long long check_tail(const ss_restore_t *r, const int64_t *at_a_stop,
                            const int64_t *at_b_stop) {
  long long tail = 0;
  for (int p = 0; p < PARTITIONS; p++) {
    fprintf(stderr,
            "e2e: partition %d: A checkpointed %lld, B wrote to %lld; A restored %lld "
            "from %lld to %lld\n",
            p, (long long)at_a_stop[p], (long long)at_b_stop[p], r->first[p] ? r->n[p] : 0,
            r->first[p] ? r->from[p] : -1, r->first[p] ? r->to[p] : -1);
    assert_int_equal(r->no_cp[p], 0);
    if (at_b_stop[p] <= at_a_stop[p]) { /* nothing new: at most the "up to date" line */
      assert_true(!r->first[p] || (r->n[p] == 0 && r->from[p] == at_a_stop[p]));
      continue;
    }
    assert_true(r->first[p]);
    assert_int_equal(r->from[p], at_a_stop[p]);
    assert_int_equal(r->to[p], at_b_stop[p]);
    assert_int_equal(r->n[p], at_b_stop[p] - at_a_stop[p]);
    tail += r->n[p];
  }
  assert_true(tail > 0);
  assert_int_equal(r->records, tail); /* one restore per partition */
  return tail;
}

static void test_tail_restore_on_kept_state_dir(void **state) {
  (void)state;
  const char *topics[5];
  int64_t want[SS_WORDS], lo[PARTITIONS], at_kill[PARTITIONS], at_a_stop[PARTITIONS],
      at_b_stop[PARTITIONS];
  ss_restore_t r;
  long long t0 = e2e_now_ms();
  names("");
  ss_topics(topics, in, out, repartition, changelog);
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, broker_log), 0);
  assert_int_equal(ss_wait_topics(&b, topics, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(ss_write_ini(ini_a, app, in, out, dir_a), 0);
  assert_int_equal(ss_write_ini(ini_b, app, in, out, dir_b), 0);
  prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);

  /* 1, 2. SIGKILL after a commit, back on the same directory. */
  count_phase(ini_a, logs[0], 1, SIGKILL);
  long long held = changelog_ends(lo, at_kill);
  count_phase(ini_a, logs[1], 2, SIGTERM);
  ss_parse_restores(logs[1], 0, &r);
  check_after_kill(&r, at_kill, held);
  long long after_kill = r.records;

  /* 3. B takes over with nothing and writes past A's checkpoints. */
  long long at_a = changelog_ends(lo, at_a_stop);
  count_phase(ini_b, logs[2], 3, SIGTERM);
  ss_parse_restores(logs[2], 0, &r);
  check_full(&r, lo, at_a_stop);

  /* 4. A comes back: the tail only. */
  long long at_b = changelog_ends(lo, at_b_stop);
  count_phase(ini_a, logs[3], 4, SIGTERM);
  ss_parse_restores(logs[3], 0, &r);
  long long tail = check_tail(&r, at_a_stop, at_b_stop);
  assert_true(tail < at_b);

  ss_expect(1, 4, want);
  ss_expect_counts(&b, out, PARTITIONS, want, 0, "final output");
  ss_expect_counts(&b, changelog, PARTITIONS, want, 0, "final changelog");
  ss_check_changelog_topic(&b, changelog, PARTITIONS);
  fprintf(stderr,
          "e2e: summary: %lld lines; after the SIGKILL A restored %lld of the changelog's %lld "
          "records; B restored all %lld; A back restored the tail, %lld of %lld; total %lld ms\n",
          lines, after_kill, held, at_a, tail, at_b, e2e_now_ms() - t0);
  rd_kafka_destroy(prod);
  prod = NULL;
  assert_int_equal(e2e_broker_stop(&b), 0);
}

/* Step 2 without the WAL: the kill lost what RocksDB had not flushed, the
 * checkpoints with the rows, so each store partition with records restored
 * up to the changelog's end at the kill from a checkpoint before it. */
static void check_after_kill_without_wal(const ss_restore_t *r, const int64_t *at_kill) {
  for (int p = 0; p < PARTITIONS; p++) {
    fprintf(stderr, "e2e: partition %d: changelog end at the kill %lld; restored %lld from %lld\n",
            p, (long long)at_kill[p], r->first[p] ? r->n[p] : 0, r->first[p] ? r->from[p] : -1);
    if (at_kill[p] == 0)
      continue;
    assert_true(r->first[p]);
    assert_true(r->from[p] < at_kill[p]);
    assert_int_equal(r->to[p], at_kill[p]);
    assert_int_equal(r->n[p], at_kill[p] - r->from[p]);
  }
  assert_true(r->records > 0);
}

/* Adds `line` under [weir] (ss_write_ini's first line). */
static int add_weir_setting(const char *path, const char *line) {
  char text[4096];
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  if (n == 0 || n == sizeof text - 1 || strncmp(text, "[weir]\n", 7) != 0)
    return -1;
  text[n] = '\0';
  f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "[weir]\n%s\n%s", line, text + 7);
  return fclose(f);
}

static void test_crash_without_wal_restores_since_the_last_flush(void **state) {
  (void)state;
  const char *topics[5];
  int64_t want[SS_WORDS], lo[PARTITIONS], at_kill[PARTITIONS];
  ss_restore_t r;
  names("-nowal");
  ss_topics(topics, in, out, repartition, changelog);
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, broker_log), 0);
  assert_int_equal(ss_wait_topics(&b, topics, PARTITIONS, E2E_WAIT_MS), 0);
  assert_int_equal(ss_write_ini(ini_a, app, in, out, dir_a), 0);
  assert_int_equal(add_weir_setting(ini_a, "state.wal = false"), 0);
  prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);

  count_phase(ini_a, logs[4], 1, SIGKILL);
  long long held = changelog_ends(lo, at_kill);
  count_phase(ini_a, logs[5], 2, SIGTERM);
  ss_parse_restores(logs[5], 0, &r);
  check_after_kill_without_wal(&r, at_kill);
  long long after_kill = r.records;

  count_phase(ini_a, logs[6], 3, SIGTERM);
  ss_parse_restores(logs[6], 0, &r);
  assert_int_equal(r.records, 0);
  ss_expect(1, 3, want);
  ss_expect_counts(&b, changelog, PARTITIONS, want, 0, "final changelog");
  fprintf(stderr,
          "e2e: summary (state.wal = false): after the SIGKILL A restored %lld of the "
          "changelog's %lld records; after a SIGTERM, none\n",
          after_kill, held);
  rd_kafka_destroy(prod);
  prod = NULL;
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  test_pid = pid;
  names("");
  e2e_file(ini_a, sizeof ini_a, "a.ini");
  e2e_file(ini_b, sizeof ini_b, "b.ini");
  e2e_file(broker_log, sizeof broker_log, "broker.log");
  for (int i = 0; i < 7; i++) {
    char name[16];
    snprintf(name, sizeof name, "run%d.log", i + 1);
    e2e_file(logs[i], sizeof logs[i], name);
  }
}

E2E_MAIN("state-tail", setup, cmocka_unit_test(test_tail_restore_on_kept_state_dir),
         cmocka_unit_test(test_crash_without_wal_restores_since_the_last_flush))
