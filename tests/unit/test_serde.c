/* The built-in serdes: names, UTF-8, int64, the JSON validator, printing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serde/serde.h"

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    fail_msg("expected \"%s\" in: %s", needle, haystack);
}

static int check_n(weir_serde_t s, const char *data, size_t len, char *err, size_t size) {
  err[0] = '\0';
  return weir_serde_check(s, data, len, err, size);
}

static void ok(weir_serde_t s, const char *data, size_t len) {
  char err[256];
  if (check_n(s, data, len, err, sizeof err) != 0)
    fail_msg("%s rejected \"%.*s\": %s", weir_serde_name(s), (int)len, data, err);
}

/* Must be refused with a message containing `words`. */
static void bad(weir_serde_t s, const char *data, size_t len, const char *words) {
  char err[256];
  if (check_n(s, data, len, err, sizeof err) != -1)
    fail_msg("%s accepted \"%.*s\"", weir_serde_name(s), (int)len, data);
  assert_contains(err, words);
  assert_null(strchr(err, '\n'));
}

#define OK(s, lit) ok(s, lit, sizeof lit - 1)
#define BAD(s, lit, words) bad(s, lit, sizeof lit - 1, words)
#define JOK(lit) OK(WEIR_SERDE_JSON, lit)
#define JBAD(lit, words) BAD(WEIR_SERDE_JSON, lit, words)

/* ---------------------------------------------------------------- names */

static void names(void **state) {
  weir_serde_t s;
  const char *all[] = {"bytes", "string", "int64", "json"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(weir_serde_parse(all[i], &s), 0);
    assert_int_equal(s, i);
    assert_string_equal(weir_serde_name(s), all[i]);
  }
  assert_int_equal(weir_serde_parse("avro", &s), -1);
  assert_int_equal(weir_serde_parse("JSON", &s), -1);
  assert_int_equal(weir_serde_parse(NULL, &s), -1);
  assert_string_equal(weir_serde_names(), "bytes, string, int64, json");
  assert_string_equal(weir_serde_name((weir_serde_t)9), "unknown");
}

static void null_always_passes(void **state) {
  char err[64];
  for (int s = 0; s < 4; s++)
    assert_int_equal(weir_serde_check((weir_serde_t)s, NULL, 5, err, sizeof err), 0);
}

static void bytes_take_anything(void **state) {
  OK(WEIR_SERDE_BYTES, "\xff\x00\xc0");
  OK(WEIR_SERDE_BYTES, "");
}

/* ---------------------------------------------------------------- UTF-8 */

static void utf8_valid(void **state) {
  OK(WEIR_SERDE_STRING, "");
  OK(WEIR_SERDE_STRING, "plain ascii");
  OK(WEIR_SERDE_STRING, "caf\xc3\xa9");      /* é */
  OK(WEIR_SERDE_STRING, "\xe2\x82\xac");     /* € */
  OK(WEIR_SERDE_STRING, "\xf0\x9f\x98\x80"); /* 😀 */
  OK(WEIR_SERDE_STRING, "\xef\xbf\xbf");     /* U+FFFF */
  OK(WEIR_SERDE_STRING, "\xf4\x8f\xbf\xbf"); /* U+10FFFF, the last */
  OK(WEIR_SERDE_STRING, "\xed\x9f\xbf");     /* U+D7FF, just below surrogates */
  OK(WEIR_SERDE_STRING, "nul\x00inside");    /* U+0000 is a character */
}

static void utf8_invalid(void **state) {
  BAD(WEIR_SERDE_STRING, "ab\x80", "invalid UTF-8 at byte 2: unexpected continuation byte");
  /* Past the eight-bytes-at-a-time ASCII run, and inside one. */
  BAD(WEIR_SERDE_STRING, "abcdefghij\x80", "at byte 10: unexpected continuation byte");
  BAD(WEIR_SERDE_STRING, "abcdefg\xc3\xa9hijklmno\xff", "at byte 17");
  OK(WEIR_SERDE_STRING, "abcdefg\xc3\xa9hijklmnopqrstuvwxyz");
  BAD(WEIR_SERDE_STRING, "\xc0\xaf", "at byte 0: overlong"); /* overlong '/' */
  BAD(WEIR_SERDE_STRING, "\xc1\xbf", "overlong");
  BAD(WEIR_SERDE_STRING, "\xe0\x80\xaf", "overlong");                     /* 3-byte overlong */
  BAD(WEIR_SERDE_STRING, "\xf0\x80\x80\xaf", "overlong");                 /* 4-byte overlong */
  BAD(WEIR_SERDE_STRING, "x\xed\xa0\x80", "at byte 1: UTF-16 surrogate"); /* U+D800 */
  BAD(WEIR_SERDE_STRING, "\xed\xbf\xbf", "surrogate");                    /* U+DFFF */
  BAD(WEIR_SERDE_STRING, "\xf4\x90\x80\x80", "above U+10FFFF");
  BAD(WEIR_SERDE_STRING, "\xf5\x80\x80\x80", "never appears");
  BAD(WEIR_SERDE_STRING, "\xff", "never appears");
  BAD(WEIR_SERDE_STRING, "\xe2\x82", "truncated");     /* cut at the end */
  BAD(WEIR_SERDE_STRING, "\xe2\x28\xa1", "truncated"); /* broken in the middle */
  BAD(WEIR_SERDE_STRING, "\xc3", "truncated");
}

/* ---------------------------------------------------------------- int64 */

static void int64_round_trip(void **state) {
  const int64_t values[] = {0,         1,         -1,           255, 256, -256, 1234567890123LL,
                            INT64_MAX, INT64_MIN, INT64_MIN + 1};
  unsigned char b[8];
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    weir_int64_encode(values[i], b);
    assert_true(weir_int64_decode(b) == values[i]);
  }
}

static void int64_big_endian(void **state) {
  unsigned char b[8];
  const unsigned char one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
  const unsigned char minus_two[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
  const unsigned char min[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
  weir_int64_encode(1, b);
  assert_memory_equal(b, one, 8);
  weir_int64_encode(-2, b);
  assert_memory_equal(b, minus_two, 8);
  assert_true(weir_int64_decode(min) == INT64_MIN);
}

static void int64_length(void **state) {
  OK(WEIR_SERDE_INT64, "\0\0\0\0\0\0\0\x2a");
  BAD(WEIR_SERDE_INT64, "12345", "int64 needs 8 bytes, got 5");
  BAD(WEIR_SERDE_INT64, "", "got 0");
  BAD(WEIR_SERDE_INT64, "123456789", "got 9");
}

/* ---------------------------------------------------------------- JSON */

static void json_valid(void **state) {
  JOK("0");
  JOK("-0");
  JOK("12");
  JOK("-12.5e+3");
  JOK("1E5");
  JOK("0.001e-2");
  JOK("true");
  JOK("false");
  JOK("null");
  JOK("\"\"");
  JOK("  \t\r\n {\"a\": [1, 2, {\"b\": null}], \"c\": \"d\"} \n");
  JOK("[]");
  JOK("{}");
  JOK("[ ]");
  JOK("\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"");
  JOK("\"\\u00e9 \\u20AC\"");
  JOK("\"\\ud83d\\ude00\""); /* a surrogate pair: 😀 */
  JOK("\"caf\xc3\xa9\"");
  JOK("{\"\":0}");
}

static void json_invalid_values(void **state) {
  JBAD("", "at byte 0: empty input");
  JBAD("   ", "at byte 3: empty input");
  JBAD("nul", "at byte 0: expected a value");
  JBAD("True", "expected a value");
  JBAD("'x'", "expected a value");
  JBAD("undefined", "expected a value");
  JBAD("+1", "expected a value");
  JBAD("\xef\xbb\xbf{}", "at byte 0"); /* a BOM is not whitespace */
}

static void json_invalid_numbers(void **state) {
  JBAD("01", "at byte 1: a number may not have a leading zero");
  JBAD("-01", "leading zero");
  JBAD("1.", "at byte 2: expected a digit after '.'");
  JBAD(".5", "expected a value");
  JBAD("-", "at byte 1: expected a digit");
  JBAD("-a", "expected a digit");
  JBAD("1e", "expected a digit in the exponent");
  JBAD("1e+", "exponent");
  JBAD("0x10", "at byte 1");
  JBAD("1.5.2", "expected the end");
  JBAD("NaN", "expected a value");
  JBAD("Infinity", "expected a value");
}

static void json_trailing(void **state) {
  JBAD("{} x", "at byte 3: expected the end after one complete value, got 'x'");
  JBAD("1 2", "at byte 2");
  JBAD("[1]]", "at byte 3");
  JBAD("null,", "at byte 4");
  JBAD("{}\0", "got byte 0x00");
}

static void json_structure(void **state) {
  JBAD("[1,]", "at byte 3: expected a value");
  JBAD("[1 2]", "at byte 3: expected ',' or ']'");
  JBAD("[", "expected a value");
  JBAD("[1", "expected ',' or ']' in an array, got the end of input");
  JBAD("{\"a\" 1}", "at byte 5: expected ':'");
  JBAD("{\"a\":1,}", "at byte 7: expected a string as an object key");
  JBAD("{a:1}", "at byte 1: expected a string as an object key");
  JBAD("{\"a\":1 \"b\":2}", "expected ',' or '}'");
  JBAD("{\"a\":}", "expected a value");
  JBAD("{", "expected a string as an object key");
}

static void json_strings(void **state) {
  JBAD("\"abc", "unterminated string");
  JBAD("\"a\\x\"", "at byte 3: expected an escape");
  JBAD("\"a\\", "expected an escape");
  JBAD("\"\\u12\"", "expected 4 hex digits");
  JBAD("\"\\u12g4\"", "at byte 5: expected 4 hex digits");
  JBAD("\"tab\there\"", "at byte 4: control character");
  JBAD("\"nl\n\"", "control character");
  JBAD("\"\\ud83d\"", "low surrogate after a high one");
  JBAD("\"\\ud83dx\"", "low surrogate after a high one");
  JBAD("\"\\ud83d\\u0041\"", "low surrogate after a high one");
  JBAD("\"\\ude00\"", "at byte 1: a \\u escape of a low surrogate must follow a high one");
  JBAD("\"\xc0\xaf\"", "at byte 1: invalid UTF-8 in a string: overlong");
  JBAD("\"\xed\xa0\x80\"", "surrogate");
  JBAD("\"\xff\"", "invalid UTF-8");
}

static char *nested(int depth, char open, char close) {
  char *s = malloc((size_t)depth * 2 + 1);
  assert_non_null(s);
  memset(s, open, (size_t)depth);
  memset(s + depth, close, (size_t)depth);
  s[depth * 2] = '\0';
  return s;
}

static void json_depth(void **state) {
  char err[256];
  char *s = nested(512, '[', ']');
  assert_int_equal(weir_serde_check(WEIR_SERDE_JSON, s, strlen(s), err, sizeof err), 0);
  free(s);
  s = nested(513, '[', ']');
  assert_int_equal(weir_serde_check(WEIR_SERDE_JSON, s, strlen(s), err, sizeof err), -1);
  assert_contains(err, "at byte 512: nested deeper than 512 levels");
  free(s);
  /* Far deeper than the limit must still fail cleanly, not blow the stack. */
  s = nested(100000, '[', ']');
  assert_int_equal(weir_serde_check(WEIR_SERDE_JSON, s, strlen(s), err, sizeof err), -1);
  free(s);
  s = malloc(4 * 600 + 1);
  assert_non_null(s);
  s[0] = '\0';
  for (int i = 0; i < 600; i++)
    strcat(s, "{\"\":");
  assert_int_equal(weir_serde_check(WEIR_SERDE_JSON, s, strlen(s), err, sizeof err), -1);
  assert_contains(err, "nested deeper than 512");
  free(s);
}

static void small_error_buffers(void **state) {
  char err[4] = "xxx";
  assert_int_equal(weir_serde_check(WEIR_SERDE_JSON, "{", 1, err, sizeof err), -1);
  assert_int_equal(strlen(err), 3);
  assert_int_equal(weir_serde_check(WEIR_SERDE_JSON, "{", 1, NULL, 0), -1);
  assert_int_equal(weir_serde_check(WEIR_SERDE_STRING, "\xff", 1, NULL, 0), -1);
}

/* ---------------------------------------------------------------- print */

static char *printed(weir_serde_t s, const void *data, size_t len) {
  char *text = NULL;
  size_t n = 0;
  FILE *out = open_memstream(&text, &n);
  assert_non_null(out);
  weir_serde_print(s, data, len, out);
  fclose(out);
  return text;
}

static void expect_print(weir_serde_t s, const void *data, size_t len, const char *want) {
  char *got = printed(s, data, len);
  assert_string_equal(got, want);
  free(got);
}

static void print(void **state) {
  unsigned char b[8];
  weir_int64_encode(-42, b);
  expect_print(WEIR_SERDE_INT64, b, 8, "-42");
  weir_int64_encode(INT64_MIN, b);
  expect_print(WEIR_SERDE_INT64, b, 8, "-9223372036854775808");
  expect_print(WEIR_SERDE_STRING, NULL, 0, "null");
  expect_print(WEIR_SERDE_STRING, "a\nb\tc\x01", 6, "a\\nb\\tc\\x01");
  expect_print(WEIR_SERDE_STRING, "caf\xc3\xa9", 5, "caf\xc3\xa9");
  expect_print(WEIR_SERDE_STRING, "bad\xff", 4, "bad\\xff");
  expect_print(WEIR_SERDE_JSON, "{\"a\":1}", 7, "{\"a\":1}");
  expect_print(WEIR_SERDE_BYTES, "hello", 5, "hello");
  expect_print(WEIR_SERDE_BYTES, "\x01\xff", 2, "0x01ff");
  expect_print(WEIR_SERDE_BYTES, "", 0, "");
  expect_print(WEIR_SERDE_INT64, "abc", 3, "abc"); /* not 8 bytes: shown as bytes */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(names),
      cmocka_unit_test(null_always_passes),
      cmocka_unit_test(bytes_take_anything),
      cmocka_unit_test(utf8_valid),
      cmocka_unit_test(utf8_invalid),
      cmocka_unit_test(int64_round_trip),
      cmocka_unit_test(int64_big_endian),
      cmocka_unit_test(int64_length),
      cmocka_unit_test(json_valid),
      cmocka_unit_test(json_invalid_values),
      cmocka_unit_test(json_invalid_numbers),
      cmocka_unit_test(json_trailing),
      cmocka_unit_test(json_structure),
      cmocka_unit_test(json_strings),
      cmocka_unit_test(json_depth),
      cmocka_unit_test(small_error_buffers),
      cmocka_unit_test(print),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
