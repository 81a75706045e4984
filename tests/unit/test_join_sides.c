/* A join's value built by an operator of the user's own (Kafka Streams'
 * ValueJoiner): the std join with `value = sides` forwards each result with
 * an empty value and each present side's bytes in a header, which
 * weir_join_side() reads; examples/order-total builds {qty, price, total}
 * from them. Exact outputs through the test driver, for each join kind:
 * binary sides kept byte for byte, an absent side with no header, a
 * table-table tombstone with neither. */
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
#include <weir/weir.h>

#define HEAD "[weir]\napplication.id = td\nbootstrap.servers = x\ncommit.interval.ms = 100\n"
#define SRCS "[source:l]\ntopic = l\n[source:r]\ntopic = r\n"
#define SINK "[sink:out]\ninput = j\ntopic = out\n"
#define OP "[operator:j]\nplugin = std\ntype = join\ninput = l, r\nvalue = sides\n"
#define KV(name) "[store:" name "]\ntype = kv\n"
#define WIN(name) "[store:" name "]\ntype = window\nwindow.size.ms = 1\nretention.ms = 1000\n"

static void send(weir_test_driver_t *td, const char *topic, const char *key, const void *value,
                 size_t value_len, int64_t ts) {
  assert_int_equal(weir_test_driver_pipe(td, topic, key, strlen(key), value, value_len, ts), 0);
}

static void send_text(weir_test_driver_t *td, const char *topic, const char *key, const char *value,
                      int64_t ts) {
  send(td, topic, key, value, value ? strlen(value) : 0, ts);
}

/* A side for the listing: its bytes, a non-printable one as \xNN; "-"
 * when absent. */
static size_t put_side(char *buf, size_t size, const weir_record_t *rec, int side) {
  const void *v;
  size_t len, used = 0;
  if (!weir_join_side(rec, side, &v, &len))
    return (size_t)snprintf(buf, size, "-");
  for (size_t i = 0; i < len && used < size; i++) {
    unsigned char c = ((const unsigned char *)v)[i];
    used += (size_t)(c >= 0x20 && c < 0x7f ? snprintf(buf + used, size - used, "%c", c)
                                           : snprintf(buf + used, size - used, "\\x%02x", c));
  }
  return used;
}

/* What reached `out` since the last read, as "key=[left|right]@ts " from
 * the headers ("DEL" for a tombstone with no sides); any other value or
 * header fails the test. */
static const char *sides_out(weir_test_driver_t *td) {
  static char buf[4096];
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, "out", &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    weir_record_t rec = WEIR_RECORD_INIT;
    rec.headers = r[i].headers;
    rec.header_count = r[i].header_count;
    for (size_t h = 0; h < r[i].header_count; h++)
      if (strcmp(r[i].headers[h].name, WEIR_JOIN_LEFT_HEADER) &&
          strcmp(r[i].headers[h].name, WEIR_JOIN_RIGHT_HEADER))
        fail_msg("unexpected header %s", r[i].headers[h].name);
    if (!r[i].value) {
      assert_int_equal(r[i].header_count, 0);
      used += (size_t)snprintf(buf + used, sizeof buf - used, "%s=DEL@%lld ", r[i].key,
                               (long long)r[i].timestamp);
      continue;
    }
    assert_int_equal(r[i].value_len, 0);
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s=[", r[i].key);
    used += put_side(buf + used, sizeof buf - used, &rec, 0);
    used += (size_t)snprintf(buf + used, sizeof buf - used, "|");
    used += put_side(buf + used, sizeof buf - used, &rec, 1);
    used += (size_t)snprintf(buf + used, sizeof buf - used, "]@%lld ", (long long)r[i].timestamp);
  }
  return buf;
}

/* Values that are not JSON, not text, with a NUL inside, or empty, reach
 * the joiner as they came; an unmatched stream record of a left join has
 * no right header. */
static void test_stream_table_binary(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD SRCS OP "kind = stream-table\njoin = left\nstore = t\n" KV("t") SINK);
  send(td, "r", "k", "\x01\x00\xff", 3, 10);
  send(td, "l", "k", "a\x00z", 3, 20);
  send(td, "l", "k", "", 0, 30);
  send(td, "l", "x", "{\"q\":1}", 7, 40);
  assert_string_equal(sides_out(td), "k=[a\\x00z|\\x01\\x00\\xff]@20 k=[|\\x01\\x00\\xff]@30 "
                                     "x=[{\"q\":1}|-]@40 ");
  weir_test_driver_close(td);
}

/* Table-table outer: a result with one side has that side's header only;
 * a key's result gone is a tombstone with neither. */
static void test_table_table_outer(void **state) {
  (void)state;
  weir_test_driver_t *td = open_ini(
      HEAD SRCS OP "kind = table-table\njoin = outer\nstore = a, b\n" KV("a") KV("b") SINK);
  send_text(td, "r", "k", "B1", 100);
  send_text(td, "l", "k", "A1", 110);
  send_text(td, "l", "k", NULL, 120);
  send_text(td, "r", "k", NULL, 130);
  assert_string_equal(sides_out(td), "k=[-|B1]@100 k=[A1|B1]@110 k=[-|B1]@120 k=DEL@130 ");
  weir_test_driver_close(td);
}

/* Stream-stream outer: the pair when its second record arrives, each
 * unmatched record with its one side once its window has closed. */
static void test_stream_stream_outer(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini(HEAD SRCS OP "kind = stream-stream\njoin = outer\nwindow = 10\ngrace = 5\n"
                            "store = a, b\n" WIN("a") WIN("b") SINK);
  send_text(td, "l", "k", "L1", 100);
  send_text(td, "r", "k", "R1", 105);
  send_text(td, "l", "u", "L2", 101);
  send_text(td, "r", "v", "R2", 102);
  assert_string_equal(sides_out(td), "k=[L1|R1]@105 ");
  send_text(td, "l", "z", "L3", 200);
  assert_string_equal(sides_out(td), "u=[L2|-]@101 v=[-|R2]@102 ");
  weir_test_driver_close(td);
}

/* The example joiner after a stream-table left join: totals, null price
 * for an order whose product has none, a tombstone passed through from a
 * table-table join, and an order without a number failing under
 * processing.error.policy = skip (counted, nothing out). */
#define TOTALS "[operator:t]\nplugin = examples/order-total\ntype = order-total\ninput = j\n"
#define TOTALS_SINK "[sink:out]\ninput = t\ntopic = out\n"

static const char *values(weir_test_driver_t *td) {
  static char buf[2048];
  const weir_test_record_t *r;
  size_t n = weir_test_driver_read(td, "out", &r), used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(r[i].header_count, 0); /* the joiner's record: its own, no sides */
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s=%s@%lld ", r[i].key,
                             r[i].value ? r[i].value : "DEL", (long long)r[i].timestamp);
  }
  return buf;
}

static void test_order_total(void **state) {
  (void)state;
  weir_test_driver_t *td =
      open_ini("[weir]\napplication.id = td\nbootstrap.servers = x\n"
               "processing.error.policy = skip\n" SRCS OP
               "kind = stream-table\njoin = left\nstore = p\n" KV("p") TOTALS TOTALS_SINK);
  send_text(td, "r", "apple", "{\"price\":2.5,\"name\":\"apple\"}", 1);
  send_text(td, "l", "apple", "{\"qty\":3}", 10);
  send_text(td, "l", "pear", "{\"qty\":2}", 11);
  send_text(td, "l", "apple", "{\"count\":3}", 12); /* no qty: fails, skipped */
  send_text(td, "r", "apple", "{\"price\":4}", 13);
  send_text(td, "l", "apple", "{\"qty\":0.5}", 14);
  assert_string_equal(values(td), "apple={\"qty\":3,\"price\":2.5,\"total\":7.5}@10 "
                                  "pear={\"qty\":2,\"price\":null,\"total\":null}@11 "
                                  "apple={\"qty\":0.5,\"price\":4,\"total\":2}@14 ");
  weir_test_driver_close(td);

  td = open_ini(HEAD SRCS OP "kind = table-table\njoin = inner\nstore = a, b\n" KV("a") KV("b")
                    TOTALS TOTALS_SINK);
  send_text(td, "l", "o1", "{\"qty\":2}", 5);
  send_text(td, "r", "o1", "{\"price\":1.25}", 6);
  send_text(td, "r", "o1", NULL, 7);
  assert_string_equal(values(td), "o1={\"qty\":2,\"price\":1.25,\"total\":2.5}@6 o1=DEL@7 ");
  weir_test_driver_close(td);
}

/* weir_join_side matches the whole header name only, and a present side
 * whose header value is NULL reads as empty (not absent). */
static void test_side_lookup(void **state) {
  (void)state;
  const weir_header_t h[] = {
      {"weir.join.lef", "no", 2}, {"weir.join.rightx", "no", 2}, {WEIR_JOIN_RIGHT_HEADER, NULL, 0}};
  weir_record_t rec = WEIR_RECORD_INIT;
  const void *v = NULL;
  size_t len = 99;
  assert_int_equal(weir_join_side(&rec, 0, &v, &len), 0);
  rec.headers = h;
  rec.header_count = 3;
  assert_int_equal(weir_join_side(&rec, 0, &v, &len), 0);
  assert_int_equal(weir_join_side(&rec, 1, &v, &len), 1);
  assert_non_null(v);
  assert_int_equal(len, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_table_binary), cmocka_unit_test(test_table_table_outer),
      cmocka_unit_test(test_stream_stream_outer), cmocka_unit_test(test_order_total),
      cmocka_unit_test(test_side_lookup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
