/* The canonical key of a JSON value (runtime/serde/json_key.h): equal
 * values written differently share a key, different values do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "serde/json_key.h"

/* The key of the root value of `json`, as a C string in `out`. */
static const char *key_of(const char *json, char *out, size_t size) {
  weir_json_value_t v;
  const void *key;
  size_t len;
  assert_int_equal(weir_json_find(json, strlen(json), NULL, &v), 1);
  assert_int_equal(weir_json_key(&v, &key, &len), 0);
  assert_true(len < size);
  memcpy(out, key, len);
  out[len] = '\0';
  return out;
}

static void expect_key(const char *json, const char *want) {
  char got[512];
  key_of(json, got, sizeof got);
  if (strcmp(got, want) != 0)
    fail_msg("key of %s: got '%s', want '%s'", json, got, want);
}

static void test_strings_decoded(void **state) {
  (void)state;
  expect_key("\"ab\"", "ab");
  expect_key("\"a\\u0062\"", "ab");
  expect_key("\"\\u0041\\/\\\\\\\"\"", "A/\\\"");
  expect_key("\"\\u00e9\"", "\xc3\xa9");
  expect_key("\"\xc3\xa9\"", "\xc3\xa9");
  expect_key("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
  expect_key("\"tab\\there\"", "tab\there");
  expect_key("\"\"", "");
}

static void test_integers_normalized(void **state) {
  (void)state;
  expect_key("1", "1");
  expect_key("1.0", "1");
  expect_key("1.000", "1");
  expect_key("1e0", "1");
  expect_key("10E-1", "1");
  expect_key("0.1e1", "1");
  expect_key("1e2", "100");
  expect_key("1E+2", "100");
  expect_key("100.00", "100");
  expect_key("-0", "0");
  expect_key("-0.0e5", "0");
  expect_key("0", "0");
  expect_key("-42.0", "-42");
  expect_key("123456789012345678901", "123456789012345678901"); /* 21 digits */
  expect_key("1e20", "100000000000000000000");
  expect_key("9007199254740993", "9007199254740993"); /* no double rounding */
}

static void test_fractions_and_large(void **state) {
  (void)state;
  expect_key("12.50", "12.5");
  expect_key("1.25e1", "12.5");
  expect_key("0.1", "0.1");
  expect_key("0.10", "0.1");
  expect_key("1e-1", "0.1");
  expect_key("1e-3", "0.001");
  expect_key("-1.5e-6", "-0.0000015");
  expect_key("1.5e-7", "1.5e-7");
  expect_key("1e21", "1e+21");
  expect_key("1234567890123456789012", "1.234567890123456789012e+21");
  expect_key("0.30000000000000004", "0.30000000000000004");
  expect_key("1e999999999999999999999", "1e+1000000000000000");
}

static void test_literals(void **state) {
  (void)state;
  expect_key("true", "true");
  expect_key("false", "false");
}

static void test_containers_canonical(void **state) {
  (void)state;
  expect_key("[1.0, \"a\\u0062\", true, null, [ ] ]", "[1,\"ab\",true,null,[]]");
  expect_key("{ \"b\" : 2.0, \"a\" : [1e0] }", "{\"a\":[1],\"b\":2}");
  expect_key("{\"a\":{\"y\":1,\"x\":2},\"\\u0061b\":0}", "{\"a\":{\"x\":2,\"y\":1},\"ab\":0}");
  expect_key("{}", "{}");
  expect_key("[\"q\\\"\\u0001\\n\\/\"]", "[\"q\\\"\\u0001\\n/\"]");
  expect_key("{\"\\u00e9\":\"\\u00e9\"}", "{\"\xc3\xa9\":\"\xc3\xa9\"}");
}

/* What group.by keys by: the member of the value at a path. */
static void test_member_keys_equal(void **state) {
  (void)state;
  const char *same[][2] = {{"{\"k\":\"a\\u0062\"}", "{\"k\":\"ab\"}"},
                           {"{\"k\":1}", "{\"k\":1.0}"},
                           {"{\"k\":{\"x\":1,\"y\":[2]}}", "{\"k\":{\"y\":[2.0],\"x\":1e0}}"}};
  const char *differ[][2] = {{"{\"k\":1}", "{\"k\":1.5}"},
                             {"{\"k\":\"ab\"}", "{\"k\":\"abc\"}"},
                             {"{\"k\":[1,2]}", "{\"k\":[2,1]}"}};
  for (size_t i = 0; i < 3; i++) {
    char a[128], b[128];
    for (int d = 0; d < 2; d++) {
      const char *const *pair = d ? differ[i] : same[i];
      weir_json_value_t va, vb;
      const void *ka, *kb;
      size_t la, lb;
      assert_int_equal(weir_json_find(pair[0], strlen(pair[0]), "k", &va), 1);
      assert_int_equal(weir_json_key(&va, &ka, &la), 0);
      memcpy(a, ka, la);
      assert_int_equal(weir_json_find(pair[1], strlen(pair[1]), "k", &vb), 1);
      assert_int_equal(weir_json_key(&vb, &kb, &lb), 0);
      memcpy(b, kb, lb);
      assert_int_equal(d ? la == lb && memcmp(a, b, la) == 0 : la == lb && !memcmp(a, b, la), !d);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strings_decoded),      cmocka_unit_test(test_integers_normalized),
      cmocka_unit_test(test_fractions_and_large),  cmocka_unit_test(test_literals),
      cmocka_unit_test(test_containers_canonical), cmocka_unit_test(test_member_keys_equal)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
