/* Sub-topologies: the connected parts of a topology, each run as its own
 * tasks; a topic may be read by one part only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "topology/topology.h"

static weir_topology_t *build(const char *ini, weir_diag_t *d) {
  char set[1024];
  weir_cfg_t *cfg = weir_cfg_load_string("s.ini", ini, d);
  snprintf(set, sizeof set, "weir.plugin.dir=%s", WEIR_TEST_PLUGIN_DIR);
  weir_cfg_override(cfg, set, d);
  weir_topology_t *t = weir_topology_build(cfg, NULL, d);
  weir_cfg_free(cfg);
  return t;
}

static const char two_parts[] =
    "[weir]\napplication.id = s\nbootstrap.servers = embedded\n"
    "[source:a]\ntopic = ta\n"                                          /* 4-5 */
    "[source:b]\ntopic = tb\n"                                          /* 6-7 */
    "[source:c]\ntopic = tc\n"                                          /* 8-9 */
    "[operator:join]\nplugin = std\ntype = passthrough\ninput = b, c\n" /* 10-13 */
    "[sink:out-a]\ninput = a\ntopic = oa\n"
    "[sink:out-bc]\ninput = join\ntopic = obc\n";

static void test_connected_parts_are_numbered_by_first_source(void **state) {
  weir_diag_t d = {0};
  weir_topology_t *t = build(two_parts, &d);
  weir_diag_print(&d, stderr);
  assert_non_null(t);
  assert_int_equal(t->subtopology_count, 2);
  assert_int_equal(weir_topology_find(t, "a")->subtopology, 0);
  assert_int_equal(weir_topology_find(t, "out-a")->subtopology, 0);
  assert_int_equal(weir_topology_find(t, "b")->subtopology, 1);
  assert_int_equal(weir_topology_find(t, "c")->subtopology, 1);
  assert_int_equal(weir_topology_find(t, "join")->subtopology, 1);
  assert_int_equal(weir_topology_find(t, "out-bc")->subtopology, 1);
  weir_topology_free(t);
  weir_diag_free(&d);
}

static void test_topic_in_two_parts_is_refused(void **state) {
  static const char ini[] = "[weir]\napplication.id = s\nbootstrap.servers = embedded\n"
                            "[source:a]\ntopic = shared\n"
                            "[source:b]\ntopics = other, shared\n"
                            "[sink:x]\ninput = a\ntopic = x\n"
                            "[sink:y]\ninput = b\ntopic = y\n";
  weir_diag_t d = {0};
  weir_topology_t *t = build(ini, &d);
  assert_null(t);
  assert_int_equal(d.count, 1);
  assert_string_equal(d.lines[0], "s.ini:6: topic 'shared' is read by source 'a' (line 4) and "
                                  "source 'b' in unconnected parts of the topology; read it "
                                  "with one source");
  weir_diag_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_connected_parts_are_numbered_by_first_source),
      cmocka_unit_test(test_topic_in_two_parts_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
