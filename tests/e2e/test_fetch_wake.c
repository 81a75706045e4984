/* End to end: a backlog through a consumer whose queue holds far less than
 * the backlog (queued.min.messages = 1000). librdkafka 2.0.2 stops fetching
 * at that threshold and, once weir has drained its queue, fetches again
 * only after up to 1 s; weir wakes its fetchers instead (kafka/fetch_wake.h).
 * Every record comes out once, and the wakes are logged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"

#define RECORDS 60000
#define PARTITIONS 4

static char in[64], out[64], ini_path[256], log_path[256], run_log[256];
static unsigned seen[RECORDS];

static void test_backlog_through_a_small_queue(void **state) {
  (void)state;
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, topics, PARTITIONS, log_path), 0);
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);
  e2e_produce_range(prod, in, 0, RECORDS);
  assert_int_equal(rd_kafka_flush(prod, 30000), 0);
  FILE *f = fopen(ini_path, "w");
  fprintf(f,
          "[weir]\napplication.id = e2e-wake-%d\nbootstrap.servers = embedded\n"
          "log.level = debug\ncommit.interval.ms = 500\n"
          "[source:in]\ntopic = %s\n"
          "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
          "[sink:out]\ninput = pass\ntopic = %s\n"
          "[kafka]\nqueued.min.messages = 1000\n",
          (int)getpid(), in, out);
  fclose(f);
  proc_t run = e2e_weir_run(&b, ini_path, run_log);
  assert_int_equal(e2e_wait_end_offsets(prod, out, PARTITIONS, RECORDS, E2E_WAIT_MS), RECORDS);
  assert_int_equal(e2e_read_all(&b, out, PARTITIONS, seen, RECORDS), RECORDS);
  for (int i = 0; i < RECORDS; i++)
    if (seen[i] != 1)
      fail_msg("value %d came out %u times", i, seen[i]);
  int wakes = e2e_log_count(run_log, "to wake the fetchers");
  fprintf(stderr, "e2e: %d records through a 1,000-record queue, %d fetcher wakes\n", RECORDS,
          wakes);
  assert_true(wakes > 0);
  rd_kafka_destroy(prod);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "wake-in-%d", pid);
  snprintf(out, sizeof out, "wake-out-%d", pid);
  e2e_file(ini_path, sizeof ini_path, "run.ini");
  e2e_file(log_path, sizeof log_path, "broker.log");
  e2e_file(run_log, sizeof run_log, "run.log");
}

E2E_MAIN("fetch_wake", setup, cmocka_unit_test(test_backlog_through_a_small_queue))
