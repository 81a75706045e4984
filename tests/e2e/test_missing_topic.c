/* End to end: a topology whose sink topic does not exist is refused before
 * anything runs, with one line naming file:line, the sink and the topic, and
 * exit code 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e.h"

static char in[64], ini_path[256], log_path[256];

static void test_missing_sink_topic_is_one_clear_line(void **state) {
  const char *topics[] = {in, NULL};
  char expected[512], line[1024];
  e2e_broker_t b;
  assert_int_equal(e2e_broker_start(&b, topics, 2, NULL), 0);
  FILE *f = fopen(ini_path, "w");
  fprintf(f,
          "[weir]\napplication.id = e2e-missing\nbootstrap.servers = embedded\n"
          "[source:in]\ntopic = %s\n"
          "[operator:pass]\nplugin = std\ntype = passthrough\ninput = in\n"
          "[sink:out]\ninput = pass\ntopic = no-such-topic-%d\n",
          in, (int)getpid());
  fclose(f);
  proc_t run = e2e_weir_run(&b, ini_path, log_path);
  assert_int_equal(proc_wait(&run, 30000), 1);
  snprintf(expected, sizeof expected,
           "weir: error: %s:10: sink 'out': topic 'no-such-topic-%d' does not exist on %s: "
           "create it first",
           ini_path, (int)getpid(), b.bootstrap);
  int found = 0, errors = 0;
  f = fopen(log_path, "r");
  while (f && fgets(line, sizeof line, f)) {
    errors += strncmp(line, "weir: error:", 12) == 0;
    found |= strncmp(line, expected, strlen(expected)) == 0;
  }
  if (f)
    fclose(f);
  assert_true(found);
  assert_int_equal(errors, 1);
  assert_int_equal(e2e_broker_stop(&b), 0);
}

static void setup(int pid) {
  snprintf(in, sizeof in, "missing-in-%d", pid);
  e2e_file(ini_path, sizeof ini_path, "run.ini");
  e2e_file(log_path, sizeof log_path, "run.log");
}

E2E_MAIN("missing", setup, cmocka_unit_test(test_missing_sink_topic_is_one_clear_line))
