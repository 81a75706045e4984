/* End to end, real broker only (the mock ignores static membership): with
 * group.instance.id set, an instance killed with SIGKILL and started again
 * takes its tasks back at once, without waiting out session.timeout.ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"

/* Long enough that a restart on a slow machine still beats it by far: the
 * test asserts the tasks come back before the old member's session could
 * have expired, which is what static membership is for. */
#define SESSION_MS 45000

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
    fprintf(stderr,
            "e2e: static membership needs the real broker (the mock ignores it): skipped\n");
    skip();
  }
  const char *topics[] = {in, out, NULL};
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, topics, 4, NULL), 0);
  FILE *f = fopen(ini_path, "w");
  fprintf(f,
          "[weir]\napplication.id = e2e-static-%d\nbootstrap.servers = embedded\nthreads = 2\n"
          "commit.interval.ms = 200\n[source:in]\ntopic = %s\n"
          "[sink:out]\ninput = in\ntopic = %s\n"
          "[kafka]\ngroup.instance.id = node-a\nsession.timeout.ms = %d\n",
          (int)getpid(), in, out, SESSION_MS);
  fclose(f);
  proc_t run = e2e_weir_run(&b, ini_path, log1);
  assert_true(wait_for_line(log1, "gained tasks", E2E_WAIT_MS) >= 0);
  rd_kafka_t *prod = e2e_client(&b, RD_KAFKA_PRODUCER, NULL);
  e2e_produce_range(prod, in, 0, 1000);
  rd_kafka_flush(prod, 10000);
  assert_int_equal(e2e_wait_end_offsets(prod, out, 4, 1000, E2E_WAIT_MS), 1000);
  long long killed_at = e2e_now_ms();
  assert_int_equal(proc_stop(&run, SIGKILL, 5000), 128 + SIGKILL);

  run = e2e_weir_run(&b, ini_path, log2);
  long long took = wait_for_line(log2, "gained tasks", 2 * SESSION_MS);
  long long since_kill = took < 0 ? -1 : e2e_now_ms() - killed_at;
  fprintf(stderr,
          "e2e: restarted static member regained its tasks %lld ms after the SIGKILL "
          "(session.timeout.ms = %d)\n",
          since_kill, SESSION_MS);
  /* Without static membership the group would wait out the dead member's
   * session before handing its tasks to anyone. */
  assert_true(took >= 0 && since_kill < SESSION_MS);
  e2e_produce_range(prod, in, 1000, 2000);
  rd_kafka_flush(prod, 10000);
  assert_true(e2e_wait_end_offsets(prod, out, 4, 2000, E2E_WAIT_MS) >= 2000);
  rd_kafka_destroy(prod);
  assert_int_equal(proc_stop(&run, SIGTERM, 30000), 0);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "static-in-%d", pid);
  snprintf(out, sizeof out, "static-out-%d", pid);
  e2e_file(ini_path, sizeof ini_path, "run.ini");
  e2e_file(log1, sizeof log1, "run1.log");
  e2e_file(log2, sizeof log2, "run2.log");
}

E2E_MAIN("static", setup, cmocka_unit_test(test_restart_within_session_keeps_tasks))
