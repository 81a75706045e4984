/* The std stateful operators in whole topologies, through the test driver
 * (as a plugin author tests): repartitioned aggregates on JSON, latest and
 * table with tombstones, dedupe in event time, and what the stores hold. */
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

static void send(weir_test_driver_t *td, const char *key, const char *value, int64_t ts) {
  assert_int_equal(weir_test_driver_pipe(td, "in", key, key ? strlen(key) : 0, value,
                                         value ? strlen(value) : 0, ts),
                   WEIR_OK);
}

static void expect(const weir_test_record_t *r, const char *key, const char *value) {
  assert_string_equal(r->key, key);
  if (!value)
    assert_null(r->value);
  else
    assert_string_equal(r->value, value);
}

/* Sum of a JSON field per customer, the customer taken from the value: the
 * repartition re-keys, the aggregate emits once per key per commit. */
static void test_aggregate_json_sum_grouped(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td = open_ini(
      HEAD "[source:in]\ntopic = in\nvalue.serde = json\n"
           "[operator:sum]\nplugin = std\ntype = aggregate\ninput = in\nfunction = sum\n"
           "field = order.total\ngroup.by = json:customer\nstore = totals\n"
           "[store:totals]\ntype = kv\n"
           "[sink:out]\ninput = sum\ntopic = out\nkey.serde = string\nvalue.serde = string\n");
  send(td, "o1", "{\"customer\":\"ann\",\"order\":{\"total\":10}}", 1);
  send(td, "o2", "{\"customer\":\"bob\",\"order\":{\"total\":2.5}}", 2);
  send(td, "o3", "{\"customer\":\"ann\",\"order\":{\"total\":5}}", 3);
  assert_int_equal(weir_test_driver_advance_wall_clock(td, 100), WEIR_OK);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 2);
  expect(&out[0], "ann", "15");
  expect(&out[1], "bob", "2.5");
  weir_test_driver_close(td);
}

/* latest keeps the newest value; a tombstone deletes the key and is
 * forwarded as one. The store holds what the output says. */
static void test_latest_with_tombstone(void **state) {
  (void)state;
  const weir_test_record_t *out;
  const void *v;
  size_t len;
  weir_test_driver_t *td = open_ini(
      HEAD "[source:in]\ntopic = in\n"
           "[operator:last]\nplugin = std\ntype = latest\ninput = in\nstore = s\nemit = update\n"
           "[store:s]\ntype = kv\n"
           "[sink:out]\ninput = last\ntopic = out\n");
  send(td, "a", "1", 1);
  send(td, "b", "2", 2);
  send(td, "a", "3", 3);
  send(td, "b", NULL, 4);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 4);
  expect(&out[2], "a", "3");
  expect(&out[3], "b", NULL);
  assert_int_equal(weir_test_driver_store_get(td, "s", "a", 1, &v, &len), WEIR_OK);
  assert_int_equal(len, 1);
  assert_memory_equal(v, "3", 1);
  assert_int_equal(weir_test_driver_store_get(td, "s", "b", 1, &v, &len), WEIR_ENOENT);
  weir_test_driver_close(td);
}

/* table forwards changes only: the same value again is not a change. */
static void test_table_forwards_changes(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td =
      open_ini(HEAD "[source:in]\ntopic = in\n"
                    "[operator:t]\nplugin = std\ntype = table\ninput = in\nstore = s\n"
                    "[store:s]\ntype = kv\nchangelog = false\n"
                    "[sink:out]\ninput = t\ntopic = out\n");
  send(td, "k", "v1", 1);
  send(td, "k", "v1", 2);
  send(td, "k", "v2", 3);
  send(td, "gone", NULL, 4);
  assert_int_equal(weir_test_driver_read(td, "out", &out), 2);
  expect(&out[0], "k", "v1");
  expect(&out[1], "k", "v2");
  weir_test_driver_close(td);
}

/* dedupe in event time: a key seen less than within.ms ago is dropped. */
static void test_dedupe_in_event_time(void **state) {
  (void)state;
  const weir_test_record_t *out;
  weir_test_driver_t *td = open_ini(
      HEAD "[source:in]\ntopic = in\n"
           "[operator:d]\nplugin = std\ntype = dedupe\ninput = in\nstore = seen\nwithin.ms = 1000\n"
           "[store:seen]\ntype = kv\n"
           "[sink:out]\ninput = d\ntopic = out\n");
  send(td, "x", "first", 10000);
  send(td, "x", "again", 10500); /* 500 ms later: a duplicate */
  send(td, "y", "other", 10600);
  send(td, "x", "later", 12000); /* 1500 ms after the last sighting at 10500 */
  assert_int_equal(weir_test_driver_read(td, "out", &out), 3);
  expect(&out[0], "x", "first");
  expect(&out[1], "y", "other");
  expect(&out[2], "x", "later");
  weir_test_driver_close(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregate_json_sum_grouped),
      cmocka_unit_test(test_latest_with_tombstone),
      cmocka_unit_test(test_table_forwards_changes),
      cmocka_unit_test(test_dedupe_in_event_time),
  };
  int failed = cmocka_run_group_tests_name("rocksdb stores", tests, NULL, NULL);
  td_store_backend = "memory"; /* the same outputs from in-memory stores */
  return failed + cmocka_run_group_tests_name("in-memory stores", tests, NULL, NULL);
}
