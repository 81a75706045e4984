/* The std join's kind = foreign-key through the test driver, with exact
 * outputs: the left table "l" (orders) refers to the right table "r"
 * (customers) by the member "c" of its values. The records go through the
 * two halves and both internal topics as they would on a broker (the driver
 * hands each topic's records to the sub-topology reading it). Also the
 * configurations it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/td_open.h"
#include <cmocka.h>
#include <weir/test_driver.h>

#define HEAD "[weir]\napplication.id = td\nbootstrap.servers = x\ncommit.interval.ms = 100\n"
#define SRCS "[source:l]\ntopic = l\n[source:r]\ntopic = r\n"
#define SINK "[sink:out]\ninput = j\ntopic = out\n"
#define STORES "[store:a]\ntype = kv\n[store:b]\ntype = kv\n[store:refs]\ntype = kv\n"
#define FK(join, extra)                                                                            \
  "[operator:j]\nplugin = std\ntype = join\ninput = l, r\nkind = foreign-key\nkey.from = "         \
  "json:c\njoin = " join "\n" extra "store = a, b, refs\n" STORES
#define RESPONSES "td-j-subscription-response"

static void send(weir_test_driver_t *td, const char *topic, const char *key, const char *value,
                 int64_t ts) {
  td_send(td, topic, key, value, ts);
}

static const char *outputs(weir_test_driver_t *td) {
  return td_outputs(td, "out");
}

/* Inner: a left row joins the right row its "c" names, whichever came
 * first, and again on every update of either; a right update reaches every
 * left row referring to it, and none that moved away; a row that loses its
 * match (moved to a missing key, its right row deleted, itself deleted)
 * emits a tombstone. Timestamps: the larger of the two rows'. */
static void test_fk_inner(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS FK("inner", "") SINK);
  send(td, "r", "z", "{\"name\":\"zed\"}", 5); /* the right table first */
  send(td, "l", "o1", "{\"c\":\"a\",\"n\":1}", 100);
  assert_string_equal(outputs(td), ""); /* no customer a yet: nothing */
  send(td, "r", "a", "{\"name\":\"ann\"}", 150);
  send(td, "l", "o2", "{\"c\":\"a\",\"n\":2}", 160);
  send(td, "l", "o0", "{\"c\":\"z\",\"n\":0}", 90);
  assert_string_equal(outputs(td), "o1={\"c\":\"a\",\"n\":1,\"name\":\"ann\"}@150 "
                                   "o2={\"c\":\"a\",\"n\":2,\"name\":\"ann\"}@160 "
                                   "o0={\"c\":\"z\",\"n\":0,\"name\":\"zed\"}@90 ");
  send(td, "r", "a", "{\"name\":\"amy\"}", 200); /* both orders of a, in key order */
  assert_string_equal(outputs(td), "o1={\"c\":\"a\",\"n\":1,\"name\":\"amy\"}@200 "
                                   "o2={\"c\":\"a\",\"n\":2,\"name\":\"amy\"}@200 ");
  send(td, "l", "o1", "{\"c\":\"b\",\"n\":3}", 210); /* moved to a missing customer */
  send(td, "r", "a", "{\"name\":\"al\"}", 220);      /* o1 no longer refers to a */
  send(td, "r", "b", "{\"name\":\"bo\"}", 230);
  assert_string_equal(outputs(td), "o1=DEL@210 "
                                   "o2={\"c\":\"a\",\"n\":2,\"name\":\"al\"}@220 "
                                   "o1={\"c\":\"b\",\"n\":3,\"name\":\"bo\"}@230 ");
  send(td, "r", "b", NULL, 240);                    /* the right row deleted */
  send(td, "l", "o2", NULL, 250);                   /* the left row deleted */
  send(td, "r", "a", "{\"name\":\"x\"}", 260);      /* nobody refers to a any more */
  send(td, "l", "o3", "{\"n\":5}", 270);            /* no right key: matches nothing */
  send(td, "l", "o0", "{\"c\":\"z\",\"n\":9}", 80); /* older than its right row */
  assert_string_equal(outputs(td), "o1=DEL@240 o2=DEL@250 "
                                   "o0={\"c\":\"z\",\"n\":9,\"name\":\"zed\"}@80 ");
  weir_test_driver_close(td);
}

/* Left: every left row has a result, with a null right while its right row
 * is missing (deleted, or no right key at all); deleting the left row
 * deletes the result. */
static void test_fk_left(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS FK("left", "value = nest\n") SINK);
  send(td, "l", "o1", "{\"c\":\"a\"}", 100);
  send(td, "r", "a", "\"A\"", 110);
  send(td, "r", "a", NULL, 120);
  send(td, "l", "o1", "{\"x\":1}", 130);
  send(td, "r", "a", "\"A2\"", 135); /* o1 refers to nothing now */
  send(td, "l", "o1", NULL, 140);
  send(td, "l", "o1", NULL, 150); /* deleting a deleted row: nothing */
  assert_string_equal(outputs(td), "o1={\"left\":{\"c\":\"a\"},\"right\":null}@100 "
                                   "o1={\"left\":{\"c\":\"a\"},\"right\":\"A\"}@110 "
                                   "o1={\"left\":{\"c\":\"a\"},\"right\":null}@120 "
                                   "o1={\"left\":{\"x\":1},\"right\":null}@130 "
                                   "o1=DEL@140 ");
  weir_test_driver_close(td);
}

/* A regex key.from: the right key is the first capture group. */
static void test_fk_regex_key(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD SRCS "[operator:j]\nplugin = std\ntype = join\ninput = l, r\nkind = "
                         "foreign-key\nkey.from = regex:cust=([a-z]+)\nvalue = right\n"
                         "store = a, b, refs\n" STORES SINK);
  send(td, "r", "ann", "gold", 10);
  send(td, "l", "o1", "order 1 cust=ann qty=2", 20);
  send(td, "l", "o2", "order 2 cust=bob", 30);
  assert_string_equal(outputs(td), "o1=gold@20 ");
  weir_test_driver_close(td);
}

/* An answer for a left row the join no longer holds, or for an older value
 * of it, is dropped: it never pairs a row with a right value it no longer
 * refers to. Such answers are what a broker delivers when a left row changes
 * while its subscription is on its way; here they are written into the
 * response topic directly. */
static void test_fk_stale_answer(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(HEAD SRCS FK("left", "") SINK);
  send(td, "r", "a", "{\"name\":\"ann\"}", 10);
  send(td, "l", "o1", "{\"c\":\"a\"}", 20);
  assert_string_equal(outputs(td), "o1={\"c\":\"a\",\"name\":\"ann\"}@20 ");
  /* version 1, a right row, a hash that is not the row's, timestamp 30, "{}" */
  static const char stale[] = "\x01\x01\x12\x34\x56\x78\x9a\xbc\xde\xf0"
                              "\0\0\0\0\0\0\0\x1e{}";
  assert_int_equal(weir_test_driver_pipe(td, RESPONSES, "o1", 2, stale, sizeof stale - 1, 30), 0);
  assert_int_equal(weir_test_driver_pipe(td, RESPONSES, "o9", 2, stale, sizeof stale - 1, 30), 0);
  assert_string_equal(outputs(td), "");
  /* Not this join's format: a processing error (the join logs why). */
  assert_int_not_equal(weir_test_driver_pipe(td, RESPONSES, "o1", 2, "xy", 2, 30), 0);
  assert_non_null(strstr(weir_test_driver_error(td),
                         "processing failed at " RESPONSES "/0@3 (task 0_0): operator 'j'"));
  weir_test_driver_close(td);
}

static void test_fk_refusals(void **state) {
  (void)state;
  td_expect_refused(HEAD SRCS
                    "[operator:j]\nplugin = std\ntype = join\ninput = l, r\nkind = foreign-key\n"
                    "key.from = json:c\nstore = a, b\n" STORES SINK,
                    "store = LEFT, RIGHT, SUBSCRIPTIONS, three kv stores");
  td_expect_refused(HEAD SRCS
                    "[operator:j]\nplugin = std\ntype = join\ninput = l, r\nkind = foreign-key\n"
                    "store = a, b, refs\n" STORES SINK,
                    "kind = foreign-key needs key.from = json:PATH or regex:PATTERN");
  td_expect_refused(HEAD SRCS FK("outer", "") SINK, "kind = foreign-key joins are inner or left");
  td_expect_refused(HEAD SRCS FK("inner", "store.left = a\n") SINK,
                    "store.left is not for kind = foreign-key");
  td_expect_refused(HEAD SRCS FK("inner", "window = 5\n") SINK,
                    "window is only for kind = stream-stream");
  td_expect_refused(HEAD SRCS "[operator:j]\nplugin = std\ntype = join-fk-right\ninput = r, l\n"
                              "store = b, refs\n" STORES SINK,
                    "write type = join with kind = foreign-key instead");
  td_expect_refused(HEAD SRCS "[operator:j.right]\nplugin = std\ntype = passthrough\ninput = l\n"
                              "[sink:o2]\ninput = j.right\ntopic = o2\n" FK("inner", "") SINK,
                    "node name 'j.right' is reserved for the foreign-key right half of "
                    "[operator:j]; rename it");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fk_inner),     cmocka_unit_test(test_fk_left),
      cmocka_unit_test(test_fk_regex_key), cmocka_unit_test(test_fk_stale_answer),
      cmocka_unit_test(test_fk_refusals),
  };
  int failed = cmocka_run_group_tests_name("rocksdb stores", tests, NULL, NULL);
  td_store_backend = "memory"; /* the same outputs from in-memory stores */
  return failed + cmocka_run_group_tests_name("in-memory stores", tests, NULL, NULL);
}
