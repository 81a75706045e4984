/* Global tables ([global:NAME]) and the std join's kind = stream-global
 * through the test driver, with exact outputs: a record piped into a
 * global table's topic updates the table at once (a tombstone deletes),
 * a stream record looks it up by its key, a JSON member or a regex's first
 * group; inner and left; any operator of any sub-topology reads it by
 * name; writes are refused; and the configurations refused. The stream is
 * topic "orders", the global table's topic "customers". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "support/td_open.h"
#include <cmocka.h>
#include <weir/test_driver.h>

#define HEAD "[weir]\napplication.id = td\nbootstrap.servers = x\ncommit.interval.ms = 100\n"
#define SRC "[source:orders]\ntopic = orders\n"
#define GLOBAL "[global:customers]\ntopic = customers\nvalue.serde = json\n"
#define SINK "[sink:out]\ninput = j\ntopic = out\n"
/* Line 7: [operator:j]. */
#define JOIN(join, extra)                                                                          \
  "[operator:j]\nplugin = std\ntype = join\ninput = orders\nkind = stream-global\n"                \
  "global = customers\njoin = " join "\n" extra

static void send(weir_test_driver_t *td, const char *topic, const char *key, const char *value,
                 int64_t ts) {
  td_send(td, topic, key, value, ts);
}

static const char *outputs_of(weir_test_driver_t *td, const char *topic) {
  return td_outputs(td, topic);
}

static const char *outputs(weir_test_driver_t *td) {
  return outputs_of(td, "out");
}

/* By the stream key: nothing before the table has it (inner), the latest
 * value after an update, nothing after a tombstone; a table update emits
 * nothing; the output keeps the stream's key and timestamp. */
static void test_inner_by_key(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRC GLOBAL JOIN("inner", "") SINK);
  send(td, "orders", "c1", "{\"order\":1}", 100);
  assert_string_equal(outputs(td), "");
  send(td, "customers", "c1", "{\"name\":\"ann\"}", 50);
  assert_string_equal(outputs(td), "");
  send(td, "orders", "c1", "{\"order\":2}", 200);
  assert_string_equal(outputs(td), "c1={\"order\":2,\"name\":\"ann\"}@200 ");
  send(td, "customers", "c1", "{\"name\":\"bob\"}", 300);
  send(td, "orders", "c1", "{\"order\":3}", 250); /* an older timestamp: the table is as it is */
  assert_string_equal(outputs(td), "c1={\"order\":3,\"name\":\"bob\"}@250 ");
  const void *v;
  size_t len;
  assert_int_equal(weir_test_driver_store_get(td, "customers", "c1", 2, &v, &len), 0);
  assert_int_equal(len, 14);
  assert_memory_equal(v, "{\"name\":\"bob\"}", 14);
  send(td, "customers", "c1", NULL, 400);
  assert_int_equal(weir_test_driver_store_get(td, "customers", "c1", 2, &v, &len), -3);
  send(td, "orders", "c1", "{\"order\":4}", 500);
  send(td, "orders", NULL, "{\"order\":5}", 500); /* no key: no lookup */
  send(td, "orders", "c1", NULL, 500);            /* a stream tombstone: skipped */
  assert_string_equal(outputs(td), "");
  weir_test_driver_close(td);
}

/* Left: every stream record, a null right when unmatched (key or row
 * missing); value = nest shows the null. */
static void test_left_nest(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRC GLOBAL JOIN("left", "value = nest\n") SINK);
  send(td, "customers", "c1", "{\"name\":\"ann\"}", 10);
  send(td, "orders", "c1", "{\"order\":1}", 100);
  send(td, "orders", "c2", "{\"order\":2}", 110);
  send(td, "orders", NULL, "{\"order\":3}", 120);
  assert_string_equal(outputs(td), "c1={\"left\":{\"order\":1},\"right\":{\"name\":\"ann\"}}@100 "
                                   "c2={\"left\":{\"order\":2},\"right\":null}@110 "
                                   "-={\"left\":{\"order\":3},\"right\":null}@120 ");
  weir_test_driver_close(td);
}

/* key.from = json:PATH: the lookup key is a member of the stream value (a
 * string's content, a number's text), not the stream key, which the output
 * keeps; an object or a missing member is no key. */
static void test_key_from_json(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD SRC GLOBAL JOIN("left", "key.from = json:customer.id\nvalue = right\n") SINK);
  send(td, "customers", "c7", "{\"name\":\"ann\"}", 1);
  send(td, "customers", "42", "{\"name\":\"num\"}", 1);
  send(td, "orders", "o1", "{\"customer\":{\"id\":\"c7\"}}", 100);
  send(td, "orders", "o2", "{\"customer\":{\"id\":42}}", 101);
  send(td, "orders", "o3", "{\"customer\":{\"id\":{\"x\":1}}}", 102);
  send(td, "orders", "o4", "{\"other\":1}", 103);
  send(td, "orders", "o5", "not json", 104);
  assert_string_equal(outputs(td), "o1={\"name\":\"ann\"}@100 o2={\"name\":\"num\"}@101 "
                                   "o3=null@102 o4=null@103 o5=null@104 ");
  weir_test_driver_close(td);
}

/* key.from = regex:PATTERN: the first capture group over the value. */
static void test_key_from_regex(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD "[source:orders]\ntopic = orders\n[global:customers]\ntopic = customers\n" JOIN(
          "inner", "key.from = regex:cust=([a-z0-9]+);\nvalue = right\n") SINK);
  send(td, "customers", "c7", "ann", 1);
  send(td, "orders", "o1", "id=1;cust=c7;qty=2", 100);
  send(td, "orders", "o2", "id=2;cust=c8;qty=2", 101);
  send(td, "orders", "o3", "id=3;qty=2", 102);
  assert_string_equal(outputs(td), "o1=ann@100 ");
  weir_test_driver_close(td);
}

/* One global table read by two joins in two sub-topologies (no
 * co-partitioning: each task reads the whole table), one of them after a
 * repartition; and an operator that lists it in `store =` reads it too. */
static void test_read_from_every_subtopology(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRC "[source:returns]\ntopic = returns\n" GLOBAL JOIN(
      "inner",
      "value = right\n") "[operator:byvalue]\nplugin = std\ntype = passthrough\ninput = returns\n"
                         "group.by = value\n"
                         "[operator:j2]\nplugin = std\ntype = join\ninput = byvalue\nkind = "
                         "stream-global\n"
                         "global = customers\nvalue = nest\nstore = customers\n"
                         "[sink:out]\ninput = j\ntopic = out\n[sink:out2]\ninput = j2\ntopic = "
                         "out2\n");
  send(td, "customers", "c1", "{\"name\":\"ann\"}", 1);
  send(td, "orders", "c1", "{\"order\":1}", 100);
  send(td, "returns", "r9", "c1", 200);
  assert_string_equal(outputs(td), "c1={\"name\":\"ann\"}@100 ");
  assert_string_equal(outputs_of(td, "out2"),
                      "c1={\"left\":\"c1\",\"right\":{\"name\":\"ann\"}}@200 ");
  weir_test_driver_close(td);
}

/* Range and prefix reads of a global table (weir_kv_prefix): its rows in
 * key order, as the table is when the iterator is made. */
static void test_prefix_read(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRC GLOBAL "[operator:j]\nplugin = " WEIR_TEST_FIXTURE_DIR
                                                    "/global_scan.so\ntype = gscan\n"
                                                    "input = orders\nstore = customers\n" SINK);
  send(td, "customers", "b1", "B1", 1);
  send(td, "customers", "a2", "A2", 1);
  send(td, "customers", "a1", "A1", 1);
  send(td, "orders", "x", "a", 10);
  send(td, "customers", "a1", NULL, 11);
  send(td, "orders", "y", "a", 12);
  send(td, "orders", "z", "", 13);
  assert_string_equal(outputs(td), "x=a1=A1;a2=A2;@10 y=a2=A2;@12 z=a2=A2;b1=B1;@13 ");
  weir_test_driver_close(td);
}

/* A global table is read-only: an operator writing it fails the record
 * with a message naming the table and its topic. */
static void test_writes_refused(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD SRC GLOBAL "[operator:c]\nplugin = std\ntype = count\ninput = orders\n"
                               "store = customers\n[sink:out]\ninput = c\ntopic = out\n");
  int rc = weir_test_driver_pipe(td, "orders", "c1", 2, "x", 1, 100);
  assert_int_not_equal(rc, 0);
  if (!strstr(weir_test_driver_error(td),
              "store 'customers' (task 0_0) is a global table, read-only: only its topic "
              "'customers' changes it"))
    fail_msg("error: %s", weir_test_driver_error(td));
  weir_test_driver_close(td);
}

static void test_refusals(void **state) {
  (void)state;
  td_expect_refused(HEAD SRC JOIN("inner", "") SINK, "operator 'j' (test-driver.ini:7, ");
  td_expect_refused(HEAD SRC JOIN("inner", "") SINK,
                    "global = customers names no global table: add a [global:customers] section");
  td_expect_refused(HEAD SRC GLOBAL JOIN("outer", "") SINK,
                    "kind = stream-global joins are inner or left");
  td_expect_refused(HEAD SRC GLOBAL JOIN("inner", "key.from = regex:[a-z]+\n") SINK,
                    "key.from = regex:[a-z]+ has no capture group");
  td_expect_refused(HEAD SRC GLOBAL JOIN("inner", "key.from = value\n") SINK,
                    "key.from = value: expected key, json:PATH");
  td_expect_refused(HEAD SRC GLOBAL JOIN("inner", "window = 5\n") SINK,
                    "window is only for kind = stream-stream");
  td_expect_refused(HEAD SRC "[source:more]\ntopic = more\n" GLOBAL
                             "[operator:j]\nplugin = std\ntype = join\ninput = orders, more\n"
                             "kind = stream-global\nglobal = customers\n" SINK,
                    "kind = stream-global reads one input, the stream (it lists 2)");
  td_expect_refused(
      HEAD SRC GLOBAL
      "[operator:j]\nplugin = std\ntype = join\ninput = orders\nkind = stream-global\n" SINK,
      "kind = stream-global needs global = NAME");
  td_expect_refused(HEAD SRC "[source:r]\ntopic = r\n" GLOBAL
                             "[operator:j]\nplugin = std\ntype = join\ninput = orders, r\n"
                             "kind = stream-table\nglobal = customers\nstore = customers\n" SINK,
                    "global is only for kind = stream-global; remove it");
  td_expect_refused(
      HEAD SRC GLOBAL "[store:customers]\ntype = kv\n" JOIN("inner", "") SINK,
      "test-driver.ini:10: [store:customers] clashes with [global:customers] at line 7");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inner_by_key),
      cmocka_unit_test(test_left_nest),
      cmocka_unit_test(test_key_from_json),
      cmocka_unit_test(test_key_from_regex),
      cmocka_unit_test(test_read_from_every_subtopology),
      cmocka_unit_test(test_prefix_read),
      cmocka_unit_test(test_writes_refused),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
