/* End to end: `weir run` as a process, killed with SIGKILL mid-stream and
 * started again: every input has its output, at most twice (once more only
 * for what was not committed at the kill); then SIGTERM stops it cleanly.
 * A slow operator (tests/fixtures/slow_ops.c, MICROS per record) makes
 * "mid-stream" certain on any machine: processing the rest takes at least
 * (N_TOTAL - output) * MICROS, and the test asserts the kill landed with some
 * but not all of the input committed and produced. Runs on the real Kafka
 * broker under kafka.sh, else on `weir broker`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"

#define N_TOTAL 20000
#define PARTITIONS 4
#define MICROS 300 /* per record: the whole input takes at least 6 s */

static char in[64], out[64], group[64], ini_path[256], log_path[256], broker_log[256];

static void write_ini(void) {
  FILE *f = fopen(ini_path, "w");
  fprintf(f,
          "[weir]\napplication.id = %s\nbootstrap.servers = embedded\n"
          "commit.interval.ms = 300\n[source:in]\ntopic = %s\n"
          "[operator:slow]\nplugin = %s/slow_ops.so\ntype = sleep\ninput = in\nmicros = %d\n"
          "[sink:out]\ninput = slow\ntopic = %s\n"
          /* The killed member must leave the group soon (the mock needs > 3000). */
          "[kafka]\nsession.timeout.ms = 6000\n",
          group, in, WEIR_TEST_FIXTURE_DIR, MICROS, out);
  fclose(f);
}

static void test_kill9_loses_nothing(void **state) {
  (void)state;
  static unsigned seen[N_TOTAL];
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, broker_log), 0);
  write_ini();
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);
  e2e_produce_range(prod, in, 0, N_TOTAL);
  rd_kafka_flush(prod, 10000);
  proc_t run = e2e_weir_run(&b, ini_path, log_path);
  /* A sixth out and something committed: the rest needs >= 5 s more. */
  long long deadline = e2e_now_ms() + 90000;
  while ((e2e_end_offsets(prod, out, PARTITIONS) < N_TOTAL / 6 ||
          e2e_committed(&b, group, in, PARTITIONS) == 0) &&
         e2e_now_ms() < deadline)
    usleep(50000);
  assert_int_equal(proc_stop(&run, SIGKILL, 5000), 128 + SIGKILL);
  long long out_at_kill = e2e_end_offsets(prod, out, PARTITIONS);
  long long committed_at_kill = e2e_committed(&b, group, in, PARTITIONS);
  fprintf(stderr, "e2e: killed with %lld of %d outputs written, %lld inputs committed\n",
          out_at_kill, N_TOTAL, committed_at_kill);
  assert_true(out_at_kill >= N_TOTAL / 6 && out_at_kill < N_TOTAL);
  assert_true(committed_at_kill > 0 && committed_at_kill < N_TOTAL);

  run = e2e_weir_run(&b, ini_path, log_path);
  long long records = 0;
  int covered = 0, twice = 0, more = 0;
  deadline = e2e_now_ms() + 120000;
  do {
    e2e_wait_end_offsets(prod, out, PARTITIONS, N_TOTAL, 2000);
    records = e2e_read_all(&b, out, PARTITIONS, seen, N_TOTAL);
    covered = 0;
    for (int i = 0; i < N_TOTAL; i++)
      covered += seen[i] > 0;
  } while (covered < N_TOTAL && e2e_now_ms() < deadline);
  /* Everything committed at the stop: nothing more can come out. */
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  assert_int_equal(e2e_committed(&b, group, in, PARTITIONS), N_TOTAL);
  records = e2e_read_all(&b, out, PARTITIONS, seen, N_TOTAL);
  covered = 0;
  for (int i = 0; i < N_TOTAL; i++) {
    covered += seen[i] > 0;
    twice += seen[i] == 2;
    more += seen[i] > 2;
  }
  rd_kafka_destroy(prod);
  fprintf(stderr,
          "e2e: %d of %d inputs have output; %lld output records (%d twice, %d more often)\n",
          covered, N_TOTAL, records, twice, more);
  assert_int_equal(covered, N_TOTAL);
  assert_int_equal(more, 0);
  /* Only what ran past the last commit before the kill runs again. */
  assert_true(twice <= N_TOTAL - committed_at_kill);
  assert_int_equal(records, N_TOTAL + twice);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "kill9-in-%d", pid);
  snprintf(out, sizeof out, "kill9-out-%d", pid);
  snprintf(group, sizeof group, "e2e-kill9-%d", pid);
  e2e_file(ini_path, sizeof ini_path, "run.ini");
  e2e_file(log_path, sizeof log_path, "run.log");
  e2e_file(broker_log, sizeof broker_log, "broker.log");
}

E2E_MAIN("kill9", setup, cmocka_unit_test(test_kill9_loses_nothing))
