/* End to end: `weir run` as a process, killed with SIGKILL mid-stream and
 * started again: every input has its output (duplicates allowed, losses
 * not); then SIGTERM stops it cleanly. Runs on the real Kafka broker under
 * kafka.sh, else on `weir broker`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"

#define N_TOTAL 30000
#define PARTITIONS 4

static char in[64], out[64], ini_path[256], log_path[256];

static void write_ini(void) {
  FILE *f = fopen(ini_path, "w");
  fprintf(f, "[weir]\napplication.id = e2e-kill9-%d\nbootstrap.servers = embedded\n"
             "commit.interval.ms = 300\n[source:in]\ntopic = %s\n"
             "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
             "[sink:out]\ninput = pass\ntopic = %s\n"
             /* The killed member must leave the group soon (the mock needs > 3000). */
             "[kafka]\nsession.timeout.ms = 6000\n",
          (int)getpid(), in, out);
  fclose(f);
}

static void test_kill9_loses_nothing(void **state) {
  static unsigned seen[N_TOTAL];
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, log_path), 0);
  write_ini();
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);
  e2e_produce_range(prod, in, 0, N_TOTAL / 3);
  rd_kafka_flush(prod, 10000);
  proc_t run = e2e_weir_run(&b, ini_path, log_path);
  assert_true(e2e_wait_end_offsets(prod, out, PARTITIONS, N_TOTAL / 6, 30000) >= N_TOTAL / 6);
  /* Kill while input is still arriving: the tail is in flight somewhere. */
  e2e_produce_range(prod, in, N_TOTAL / 3, 2 * N_TOTAL / 3);
  assert_int_equal(proc_stop(&run, SIGKILL, 5000), 128 + SIGKILL);
  long long at_kill = e2e_end_offsets(prod, out, PARTITIONS);
  e2e_produce_range(prod, in, 2 * N_TOTAL / 3, N_TOTAL);
  rd_kafka_flush(prod, 10000);
  fprintf(stderr, "e2e: killed with %lld of %d outputs written\n", at_kill, N_TOTAL);

  run = e2e_weir_run(&b, ini_path, log_path);
  long long deadline = e2e_now_ms() + 90000, records = 0;
  int covered = 0;
  do {
    e2e_wait_end_offsets(prod, out, PARTITIONS, N_TOTAL, 2000);
    records = e2e_read_all(&b, out, PARTITIONS, seen, N_TOTAL);
    covered = 0;
    for (int i = 0; i < N_TOTAL; i++)
      covered += seen[i] > 0;
  } while (covered < N_TOTAL && e2e_now_ms() < deadline);
  rd_kafka_destroy(prod);
  fprintf(stderr, "e2e: %d of %d inputs have output; %lld output records (%lld duplicates)\n",
          covered, N_TOTAL, records, records - covered);
  assert_int_equal(covered, N_TOTAL);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

int main(void) {
  snprintf(in, sizeof in, "kill9-in-%d", (int)getpid());
  snprintf(out, sizeof out, "kill9-out-%d", (int)getpid());
  snprintf(ini_path, sizeof ini_path, "/tmp/weir-e2e-%d.ini", (int)getpid());
  snprintf(log_path, sizeof log_path, "/tmp/weir-e2e-%d.log", (int)getpid());
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_loses_nothing)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (rc)
    e2e_dump_log(log_path);
  unlink(ini_path);
  unlink(log_path);
  return rc;
}
