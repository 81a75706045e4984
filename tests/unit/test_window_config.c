/* [store:*] type = window / session: their keys are checked with file:line
 * (window.size.ms required for windows, the window keys refused elsewhere)
 * and reach the store declaration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "topology/topology.h"

#define HEAD                                                                                       \
  "[weir]\napplication.id = app\nbootstrap.servers = embedded\nplugin.dir "                        \
  "= " WEIR_TEST_FIXTURE_DIR "\n[source:s]\ntopic = t\n[sink:k]\ninput = s\ntopic = o\n"

/* Lines 1-9 are HEAD's. */
static weir_topology_t *build(const char *text, weir_diag_t *d) {
  weir_cfg_t *cfg = weir_cfg_load_string("t.ini", text, d);
  assert_non_null(cfg);
  weir_topology_t *t = weir_topology_build(cfg, NULL, d);
  weir_cfg_free(cfg);
  return t;
}

static void expect_error(const char *text, const char *want) {
  weir_diag_t d = {0};
  weir_topology_t *t = build(text, &d);
  assert_null(t);
  for (size_t i = 0; i < d.count; i++)
    if (strstr(d.lines[i], want)) {
      weir_diag_free(&d);
      return;
    }
  weir_diag_print(&d, stderr);
  fail_msg("expected a diagnostic containing \"%s\"", want);
}

static void test_window_keys_checked(void **state) {
  (void)state;
  expect_error(HEAD "[store:w]\ntype = window\n",
               "t.ini:10: [store:w] type = window needs window.size.ms");
  expect_error(HEAD "[store:w]\ntype = session\nwindow.size.ms = 10\n",
               "t.ini:12: [store:w] window.size.ms is only for type = window; remove it");
  expect_error(HEAD "[store:w]\ntype = kv\nretention.ms = 10\n",
               "t.ini:12: [store:w] retention.ms is only for type = window or session");
  expect_error(HEAD "[store:w]\ntype = window\nwindow.size.ms = 0\n",
               "t.ini:12: bad value for 'window.size.ms'");
}

static void test_window_store_declared(void **state) {
  (void)state;
  weir_diag_t d = {0};
  weir_topology_t *t = build(HEAD "[store:w]\ntype = window\nwindow.size.ms = 60000\n"
                                  "retention.ms = 7200000\n[store:s]\ntype = session\n",
                             &d);
  if (!t)
    weir_diag_print(&d, stderr);
  assert_non_null(t);
  const weir_store_decl_t *w = weir_topology_store(t, "w");
  const weir_store_decl_t *s = weir_topology_store(t, "s");
  assert_int_equal(w->kind, WEIR_STORE_WINDOW);
  assert_int_equal(w->window_size_ms, 60000);
  assert_int_equal(w->retention_ms, 7200000);
  assert_int_equal(s->kind, WEIR_STORE_SESSION);
  assert_int_equal(s->retention_ms, 86400000); /* Kafka Streams' default: one day */
  weir_topology_free(t);
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window_keys_checked),
      cmocka_unit_test(test_window_store_declared),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
