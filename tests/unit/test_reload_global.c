/* A reload that changes a global table's topic or name is a structural
 * change (the global thread reads the topic it started with): refused, the
 * running topology kept, as for any change a swap cannot apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "reload/reload.h"
#include "reload/swap.h"
#include "support/tmpdir.h"
#include "topology/topology.h"

static weir_test_tmpenv_t env;

static int setup(void **state) {
  (void)state;
  return weir_test_tmpenv_enter(&env, "weir-test-reload-global");
}

static int teardown(void **state) {
  (void)state;
  return weir_test_tmpenv_leave(&env);
}

static void write_ini(const char *path, const char *global, const char *topic) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "[weir]\napplication.id = rg\nbootstrap.servers = embedded\nplugin.dir = %s\n"
          "[source:in]\ntopic = in\n[global:%s]\ntopic = %s\n"
          "[operator:j]\nplugin = std\ntype = join\ninput = in\nkind = stream-global\n"
          "global = %s\n[sink:out]\ninput = j\ntopic = out\n",
          WEIR_TEST_PLUGIN_DIR, global, topic, global);
  fclose(f);
}

static void test_global_change_refused(void **state) {
  (void)state;
  char path[600], err[512], report[1024];
  snprintf(path, sizeof path, "%s/t.ini", env.path);
  write_ini(path, "g", "gt");
  weir_diag_t d = {0};
  weir_cfg_t *cfg = weir_cfg_load(path, &d);
  weir_topology_t *t = cfg ? weir_topology_build(cfg, NULL, &d) : NULL;
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  weir_swap_t swap;
  assert_int_equal(weir_swap_init(&swap, t), 0);
  weir_reloader_t *r = weir_reloader_new(t, NULL, 0, &swap, NULL, err, sizeof err);
  assert_non_null(r);
  assert_int_equal(weir_reloader_run(r, "test", report, sizeof report), 0);
  write_ini(path, "g", "other-topic");
  assert_int_equal(weir_reloader_run(r, "test", report, sizeof report), -1);
  if (!strstr(report, "store or global table 'g' changed"))
    fail_msg("report: %s", report);
  write_ini(path, "h", "gt");
  assert_int_equal(weir_reloader_run(r, "test", report, sizeof report), -1);
  if (!strstr(report, "store or global table 'g' changed"))
    fail_msg("report: %s", report);
  weir_reloader_free(r);
  weir_swap_destroy(&swap);
  weir_topology_free(t);
  weir_cfg_free(cfg);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_global_change_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
