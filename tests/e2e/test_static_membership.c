/* End to end, real broker only (the mock ignores static membership): with
 * group.instance.id set, an instance killed with SIGKILL and started again
 * takes its tasks back at once, without waiting out session.timeout.ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"

#define SESSION_MS 30000

static char in[64], out[64], ini_path[256], log1[256], log2[256];

/* Milliseconds until `needle` shows up in the file, or -1 after timeout_ms. */
static long long wait_for_line(const char *path, const char *needle, int timeout_ms) {
  long long start = e2e_now_ms();
  char line[1024];
  while (e2e_now_ms() - start < timeout_ms) {
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
      if (strstr(line, needle)) {
        fclose(f);
        return e2e_now_ms() - start;
      }
    if (f)
      fclose(f);
    usleep(50000);
  }
  return -1;
}

static void test_restart_within_session_keeps_tasks(void **state) {
  if (!getenv("WEIR_TEST_KAFKA_BOOTSTRAP") || !*getenv("WEIR_TEST_KAFKA_BOOTSTRAP")) {
    fprintf(stderr, "e2e: static membership needs the real broker (the mock ignores it): skipped\n");
    skip();
  }
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, topics, 4, NULL), 0);
  FILE *f = fopen(ini_path, "w");
  fprintf(f, "[weir]\napplication.id = e2e-static-%d\nbootstrap.servers = embedded\nthreads = 2\n"
             "commit.interval.ms = 200\n[source:in]\ntopic = %s\n"
             "[sink:out]\ninput = in\ntopic = %s\n"
             "[kafka]\ngroup.instance.id = node-a\nsession.timeout.ms = %d\n",
          (int)getpid(), in, out, SESSION_MS);
  fclose(f);
  proc_t run = e2e_weir_run(&b, ini_path, log1);
  assert_true(wait_for_line(log1, "gained tasks", 30000) >= 0);
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);
  e2e_produce_range(prod, in, 0, 1000);
  rd_kafka_flush(prod, 10000);
  assert_int_equal(e2e_wait_end_offsets(prod, out, 4, 1000, 30000), 1000);
  assert_int_equal(proc_stop(&run, SIGKILL, 5000), 128 + SIGKILL);

  run = e2e_weir_run(&b, ini_path, log2);
  long long took = wait_for_line(log2, "gained tasks", SESSION_MS);
  fprintf(stderr, "e2e: restarted static member regained its tasks after %lld ms "
                  "(session.timeout.ms = %d)\n", took, SESSION_MS);
  assert_true(took >= 0 && took < SESSION_MS / 3);
  e2e_produce_range(prod, in, 1000, 2000);
  rd_kafka_flush(prod, 10000);
  assert_true(e2e_wait_end_offsets(prod, out, 4, 2000, 30000) >= 2000);
  rd_kafka_destroy(prod);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

int main(void) {
  snprintf(in, sizeof in, "static-in-%d", (int)getpid());
  snprintf(out, sizeof out, "static-out-%d", (int)getpid());
  snprintf(ini_path, sizeof ini_path, "/tmp/weir-e2e-s-%d.ini", (int)getpid());
  snprintf(log1, sizeof log1, "/tmp/weir-e2e-s1-%d.log", (int)getpid());
  snprintf(log2, sizeof log2, "/tmp/weir-e2e-s2-%d.log", (int)getpid());
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_restart_within_session_keeps_tasks)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (rc) {
    e2e_dump_log(log1);
    e2e_dump_log(log2);
  }
  unlink(ini_path);
  unlink(log1);
  unlink(log2);
  return rc;
}
