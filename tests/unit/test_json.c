/* Unit tests for sdk/include/weir/json.h: finding fields, skipping nested
 * values and strings, malformed input, bounds (every text is an exact-size
 * heap copy with no NUL after it, so ASan catches a read past len), and the
 * number conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weir/json.h>

/* ---------------------------------------------------------------- helpers */

/* weir_json_find over the first len bytes of doc, copied to a block of
 * exactly len bytes. The value's text is copied out before the block is
 * freed, into `text` (NUL-terminated, for assert_string_equal). */
static char g_text[4096];

static int find_n(const char *doc, size_t len, const char *path, weir_json_value_t *v) {
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, doc, len);
  int rc = weir_json_find(copy, len, path, v);
  g_text[0] = '\0';
  if (rc == 1) {
    assert_true(v->text >= copy && v->text + v->len <= copy + len);
    assert_true(v->len < sizeof g_text);
    memcpy(g_text, v->text, v->len);
    g_text[v->len] = '\0';
    v->text = g_text; /* keep it valid for the caller */
  } else {
    assert_int_equal(v->kind, WEIR_JSON_NONE);
    assert_null(v->text);
    assert_int_equal(v->len, 0);
  }
  free(copy);
  return rc;
}

static int find(const char *doc, const char *path, weir_json_value_t *v) {
  return find_n(doc, strlen(doc), path, v);
}

/* Found, with this kind and text. */
static void expect_found(const char *doc, const char *path, weir_json_kind_t kind,
                         const char *text) {
  weir_json_value_t v;
  int rc = find(doc, path, &v);
  if (rc != 1)
    fail_msg("'%s' in %s: rc %d, expected found", path ? path : "(null)", doc, rc);
  assert_int_equal(v.kind, kind);
  assert_string_equal(g_text, text);
}

static void expect_rc(const char *doc, const char *path, int want) {
  weir_json_value_t v;
  int rc = find(doc, path, &v);
  if (rc != want)
    fail_msg("'%s' in %s: rc %d, expected %d", path ? path : "(null)", doc, rc, want);
}

static weir_json_value_t number(const char *text) {
  weir_json_value_t v = {WEIR_JSON_NUMBER, text, strlen(text)};
  return v;
}

static void expect_int64(const char *text, int64_t want) {
  weir_json_value_t v = number(text);
  int64_t got = 0;
  if (weir_json_int64(&v, &got) != 0)
    fail_msg("int64 of '%s' failed", text);
  assert_int_equal(got, want);
}

static void expect_no_int64(const char *text) {
  weir_json_value_t v = number(text);
  int64_t got = 7;
  if (weir_json_int64(&v, &got) != -1)
    fail_msg("int64 of '%s' gave %lld, expected -1", text, (long long)got);
  assert_int_equal(got, 7); /* untouched */
}

static void expect_double(const char *text, double want) {
  weir_json_value_t v = number(text);
  double got = 0;
  if (weir_json_double(&v, &got) != 0)
    fail_msg("double of '%s' failed", text);
  assert_true(got == want);
}

static void expect_no_double(const char *text) {
  weir_json_value_t v = number(text);
  double got = 7;
  if (weir_json_double(&v, &got) != -1)
    fail_msg("double of '%s' gave %g, expected -1", text, got);
  assert_true(got == 7);
}

/* ---------------------------------------------------------------- finding */

static const char *const DOC = "{\"s\":\"hi\",\"n\":-12.5e+3,\"t\":true,\"f\":false,\"z\":null,"
                               "\"o\":{\"a\":1},\"arr\":[1,\"x\",{\"k\":[]}],\"i\":0}";

static void test_kinds_and_text(void **state) {
  expect_found(DOC, "s", WEIR_JSON_STRING, "hi");
  expect_found(DOC, "n", WEIR_JSON_NUMBER, "-12.5e+3");
  expect_found(DOC, "t", WEIR_JSON_TRUE, "true");
  expect_found(DOC, "f", WEIR_JSON_FALSE, "false");
  expect_found(DOC, "z", WEIR_JSON_NULL, "null");
  expect_found(DOC, "o", WEIR_JSON_OBJECT, "{\"a\":1}");
  expect_found(DOC, "arr", WEIR_JSON_ARRAY, "[1,\"x\",{\"k\":[]}]");
  expect_found(DOC, "i", WEIR_JSON_NUMBER, "0");
  expect_found("{\"e\":\"\"}", "e", WEIR_JSON_STRING, "");
  expect_found("{\"e\":{},\"g\":[]}", "e", WEIR_JSON_OBJECT, "{}");
  expect_found("{\"e\":{},\"g\":[]}", "g", WEIR_JSON_ARRAY, "[]");
}

static void test_nested_paths(void **state) {
  const char *doc = "{\"a\":{\"b\":{\"c\":42,\"d\":\"x\"},\"e\":[1]},\"b\":7}";
  expect_found(doc, "a.b.c", WEIR_JSON_NUMBER, "42");
  expect_found(doc, "a.b.d", WEIR_JSON_STRING, "x");
  expect_found(doc, "a.b", WEIR_JSON_OBJECT, "{\"c\":42,\"d\":\"x\"}");
  expect_found(doc, "b", WEIR_JSON_NUMBER, "7"); /* not a.b */
  expect_rc(doc, "a.b.x", 0);
  expect_rc(doc, "a.x.c", 0);
  expect_rc(doc, "x", 0);
  expect_rc(doc, "a.e.0", 0); /* arrays cannot be indexed */
  expect_rc(doc, "b.c", 0);   /* a number has no members */
  expect_rc(doc, "a.b.d.x", 0);
  expect_rc("{}", "a", 0);
  expect_rc("[1,2]", "a", 0); /* the root is no object */
  expect_rc("\"str\"", "a", 0);
}

static void test_root_path(void **state) {
  expect_found(" {\"a\":1} ", NULL, WEIR_JSON_OBJECT, "{\"a\":1}");
  expect_found("{\"a\":1}", "", WEIR_JSON_OBJECT, "{\"a\":1}");
  expect_found(" 42 ", "", WEIR_JSON_NUMBER, "42");
  expect_found("\"s\"", "", WEIR_JSON_STRING, "s");
  expect_found("[]", NULL, WEIR_JSON_ARRAY, "[]");
  expect_rc("42 43", "", -1); /* the root must be the whole text */
  expect_rc("", "", -1);
  expect_rc("   ", "a", -1);
}

static void test_empty_segments(void **state) {
  const char *doc = "{\"\":{\"x\":1},\"a\":{\"\":2}}";
  expect_found(doc, ".x", WEIR_JSON_NUMBER, "1"); /* "" then "x" */
  expect_found(doc, "a.", WEIR_JSON_NUMBER, "2"); /* "a" then "" */
  expect_rc(doc, "a..", 0);
}

static void test_skips_tricky_values(void **state) {
  /* Braces, brackets, colons, commas and escaped quotes inside strings, and
   * nested containers, must all be skipped as one value each. */
  const char *doc = "{\"a\":\"}]{[,:\\\"\",\"b\":[{\"c\":\"\\\\\"},[[],{}],\"]\"],"
                    "\"c\":{\"d\":{\"e\":[1,2,{\"f\":\"\\\"}\"}]}},\"want\":\"yes\"}";
  expect_found(doc, "want", WEIR_JSON_STRING, "yes");
  expect_found(doc, "a", WEIR_JSON_STRING, "}]{[,:\\\"");
  expect_found(doc, "b", WEIR_JSON_ARRAY, "[{\"c\":\"\\\\\"},[[],{}],\"]\"]");
  expect_rc(doc, "f", 0); /* "f" only exists nested */
}

static void test_whitespace(void **state) {
  const char *doc = " \t\r\n{ \"a\" \n:\t{ \"b\" : [ 1 , 2 ] , \"c\" : \"v\" } , \"d\" : 1 } \n";
  expect_found(doc, "a.b", WEIR_JSON_ARRAY, "[ 1 , 2 ]");
  expect_found(doc, "a.c", WEIR_JSON_STRING, "v");
  expect_found(doc, "d", WEIR_JSON_NUMBER, "1");
}

static void test_string_escapes_kept(void **state) {
  expect_found("{\"s\":\"a\\n\\\"b\\u00e9\\\\\"}", "s", WEIR_JSON_STRING, "a\\n\\\"b\\u00e9\\\\");
  expect_found("{\"s\":\"caf\xc3\xa9\"}", "s", WEIR_JSON_STRING, "caf\xc3\xa9");
}

static void test_member_names_decoded(void **state) {
  expect_found("{\"a\\u0062\":1}", "ab", WEIR_JSON_NUMBER, "1");
  expect_found("{\"q\\\"t\":2}", "q\"t", WEIR_JSON_NUMBER, "2");
  expect_found("{\"x\\/y\":3}", "x/y", WEIR_JSON_NUMBER, "3");
  expect_found("{\"\\u00e9t\\u00C9\":4}", "\xc3\xa9t\xc3\x89", WEIR_JSON_NUMBER, "4");
  expect_found("{\"\\u20ac\":5}", "\xe2\x82\xac", WEIR_JSON_NUMBER, "5");
  /* A surrogate pair is one code point: U+1F600. */
  expect_found("{\"\\ud83d\\ude00\":6}", "\xf0\x9f\x98\x80", WEIR_JSON_NUMBER, "6");
  expect_found("{\"t\\tn\\nr\\rb\\bf\\f\":7}", "t\tn\nr\rb\bf\f", WEIR_JSON_NUMBER, "7");
  expect_rc("{\"a\\u0062\":1}", "a\\u0062", 0); /* compared decoded, not raw */
  expect_rc("{\"ab\":1}", "a", 0);
  expect_rc("{\"a\":1}", "ab", 0);
}

static void test_first_duplicate_wins(void **state) {
  expect_found("{\"a\":1,\"a\":2}", "a", WEIR_JSON_NUMBER, "1");
}

static void test_stops_after_answer(void **state) {
  /* Documented: text after the value found (and its separator) is not checked. */
  expect_found("{\"a\":1, garbage", "a", WEIR_JSON_NUMBER, "1");
  expect_found("{\"a\":{\"b\":2}, ]", "a.b", WEIR_JSON_NUMBER, "2");
  /* Not found in a nested object: the search stops at its end. */
  expect_rc("{\"a\":{\"b\":2}, ]", "a.c", 0);
  /* But the value found must end properly. */
  expect_rc("{\"a\":1x}", "a", -1);
  expect_rc("{\"a\":tru}", "a", -1);
  expect_rc("{\"a\":01}", "a", -1);
  expect_rc("{\"a\":\"x\" \"y\"}", "a", -1);
  expect_rc("{\"a\":1", "a", -1);
  /* Not found: the search ends with the root object, whatever follows. */
  expect_rc("{\"a\":1}}", "b", 0);
  expect_rc("[1]]", "b", 0);
}

static void test_malformed(void **state) {
  static const char *const bad[] = {
      "{\"a\":1,}",
      "{,\"b\":1}",
      "{\"a\" 1, \"b\":1}",
      "{a:1, \"b\":1}",
      "{'a':1, \"b\":1}",
      "{\"a\":[1,],\"b\":1}",
      "{\"a\":[,1],\"b\":1}",
      "{\"a\":[1 2],\"b\":1}",
      "{\"a\":-,\"b\":1}",
      "{\"a\":1.,\"b\":1}",
      "{\"a\":.5,\"b\":1}",
      "{\"a\":1e,\"b\":1}",
      "{\"a\":+1,\"b\":1}",
      "{\"a\":01,\"b\":1}",
      "{\"a\":nul,\"b\":1}",
      "{\"a\":True,\"b\":1}",
      "{\"a\":\"\\x\",\"b\":1}",
      "{\"a\":\"\\u12g4\",\"b\":1}",
      "{\"a\":\"\\u12\",\"b\":1}",
      "{\"a\":\"tab\there\",\"b\":1}",
      "{\"a\":\"open,\"b\":1}",
      "{\"a\":{\"x\":1],\"b\":1}",
      "{\"a\":[1},\"b\":1}",
      "{\"a\":{\"x\"},\"b\":1}",
      "{\"a\":{\"x\":},\"b\":1}",
      "{\"a\":1 \"c\":2,\"b\":1}",
      "{\"a\":1",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    weir_json_value_t v;
    int rc = find(bad[i], "b", &v);
    if (rc != -1)
      fail_msg("%s: rc %d, expected -1", bad[i], rc);
  }
  /* A raw control character (here NUL) is malformed inside a string. */
  static const char nul_in_string[] = "{\"a\":\"x\0y\",\"b\":1}";
  static const char nul_outside[] = "{\"a\":1,\0\"b\":1}";
  weir_json_value_t v;
  assert_int_equal(find_n(nul_in_string, sizeof nul_in_string - 1, "b", &v), -1);
  assert_int_equal(find_n(nul_outside, sizeof nul_outside - 1, "b", &v), -1);
  assert_int_equal(weir_json_find(NULL, 0, "a", &v), -1);
}

static void test_depth_limit(void **state) {
  char doc[2 * WEIR_JSON_MAX_DEPTH + 64];
  size_t n = 0;
  /* {"a": then MAX_DEPTH nested arrays: the value of a is at the limit. */
  n += (size_t)sprintf(doc, "{\"a\":");
  for (int i = 0; i < WEIR_JSON_MAX_DEPTH; i++)
    doc[n++] = '[';
  for (int i = 0; i < WEIR_JSON_MAX_DEPTH; i++)
    doc[n++] = ']';
  n += (size_t)sprintf(doc + n, ",\"b\":1}");
  weir_json_value_t v;
  assert_int_equal(find_n(doc, n, "b", &v), 1);
  /* One more level is too deep. */
  n = (size_t)sprintf(doc, "{\"a\":");
  for (int i = 0; i <= WEIR_JSON_MAX_DEPTH; i++)
    doc[n++] = '[';
  for (int i = 0; i <= WEIR_JSON_MAX_DEPTH; i++)
    doc[n++] = ']';
  n += (size_t)sprintf(doc + n, ",\"b\":1}");
  assert_int_equal(find_n(doc, n, "b", &v), -1);
}

/* Every prefix of a document: never a read past the prefix (ASan), and the
 * answer is "malformed" until the whole value and its closer are in. */
static void test_truncation_never_overreads(void **state) {
  const char *doc = "{\"a\":[1,{\"b\":\"x\\\"}\\u0041\"}],\"c\":{\"d\":-12.5e+3}}";
  size_t full = strlen(doc);
  weir_json_value_t v;
  for (size_t len = 0; len < full - 1; len++) {
    int rc = find_n(doc, len, "c.d", &v);
    if (rc != -1)
      fail_msg("prefix of %zu bytes: rc %d, expected -1", len, rc);
  }
  assert_int_equal(find_n(doc, full - 1, "c.d", &v), 1);
  assert_int_equal(find_n(doc, full, "c.d", &v), 1);
  assert_string_equal(g_text, "-12.5e+3");
  for (size_t len = 0; len < full; len++) /* the root needs all of it */
    assert_int_equal(find_n(doc, len, NULL, &v), -1);
  assert_int_equal(find_n(doc, full, NULL, &v), 1);
}

/* Random byte changes to a valid document: any answer is fine, but no read
 * past the text and no crash (a deterministic generator: reproducible). */
static void test_mutations_stay_in_bounds(void **state) {
  const char *doc = "{\"k\":\"v\\n\",\"arr\":[1,-2.5e3,true,false,null,{\"x\":[]}],"
                    "\"o\":{\"p\":{\"q\":\"\\ud83d\\ude00\"}},\"n\":123}";
  const char alphabet[] = "{}[]\",:\\-+.eE0123456789 truefalsnu\x01\x80";
  size_t len = strlen(doc);
  char buf[256];
  uint32_t seed = 12345;
  weir_json_value_t v;
  for (int round = 0; round < 20000; round++) {
    memcpy(buf, doc, len);
    for (int k = 0; k < 1 + round % 3; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % len;
      seed = seed * 1103515245u + 12345u;
      buf[at] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
    }
    seed = seed * 1103515245u + 12345u;
    size_t cut = len - (seed >> 8) % 8;
    static const char *const paths[] = {"k", "arr", "o.p.q", "n", "missing", NULL};
    for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
      int rc = find_n(buf, cut, paths[p], &v);
      assert_true(rc >= -1 && rc <= 1);
    }
  }
}

/* ---------------------------------------------------------------- numbers */

static void test_int64(void **state) {
  expect_int64("0", 0);
  expect_int64("-0", 0);
  expect_int64("42", 42);
  expect_int64("-17", -17);
  expect_int64("9223372036854775807", INT64_MAX);
  expect_int64("-9223372036854775808", INT64_MIN);
  expect_int64("42.0", 42);
  expect_int64("4.2e1", 42);
  expect_int64("1E3", 1000);
  expect_int64("-9.223372036854775808e18", INT64_MIN);
  expect_no_int64("9223372036854775808");
  expect_no_int64("-9223372036854775809");
  expect_no_int64("99999999999999999999999");
  expect_no_int64("9.223372036854775808e18"); /* 2^63 */
  expect_no_int64("1.5");
  expect_no_int64("1e-1");
  expect_no_int64("1e400");
  expect_no_int64("-");
  expect_no_int64("12x");
  expect_no_int64("");
  /* Only numbers convert. */
  weir_json_value_t v = {WEIR_JSON_STRING, "42", 2};
  int64_t i = 7;
  assert_int_equal(weir_json_int64(&v, &i), -1);
  v.kind = WEIR_JSON_TRUE;
  assert_int_equal(weir_json_int64(&v, &i), -1);
  assert_int_equal(weir_json_int64(NULL, &i), -1);
  assert_int_equal(i, 7);
}

static void test_double(void **state) {
  expect_double("0", 0.0);
  expect_double("1.5", 1.5);
  expect_double("-0.25e2", -25.0);
  expect_double("1E+2", 100.0);
  expect_double("9007199254740993", 9007199254740992.0); /* rounds, no error */
  expect_double("1e308", 1e308);
  expect_double("1e-400", 0.0); /* underflow: zero, not an error */
  expect_no_double("1e309");
  expect_no_double("-1e309");
  expect_no_double("1.");
  expect_no_double("0x10");
  expect_no_double("inf");
  expect_no_double("nan");
  expect_no_double(" 1");
  char longnum[200];
  memset(longnum, '1', sizeof longnum - 1);
  longnum[sizeof longnum - 1] = '\0';
  expect_no_double(longnum); /* documented limit: 127 bytes */
  longnum[128] = '\0';
  expect_no_double(longnum);
  longnum[127] = '\0';
  weir_json_value_t v = number(longnum);
  double d;
  assert_int_equal(weir_json_double(&v, &d), 0);
  v.kind = WEIR_JSON_STRING;
  assert_int_equal(weir_json_double(&v, &d), -1);
}

/* Numbers found in a text that goes on after them (no NUL): conversion reads
 * only the value's bytes. */
static void test_numbers_in_place(void **state) {
  const char *doc = "{\"a\":12,\"b\":3.5}";
  char *copy = malloc(strlen(doc));
  memcpy(copy, doc, strlen(doc));
  weir_json_value_t v;
  int64_t i;
  double d;
  assert_int_equal(weir_json_find(copy, strlen(doc), "a", &v), 1);
  assert_int_equal(weir_json_int64(&v, &i), 0);
  assert_int_equal(i, 12);
  assert_int_equal(weir_json_find(copy, strlen(doc), "b", &v), 1);
  assert_int_equal(weir_json_double(&v, &d), 0);
  assert_true(d == 3.5);
  assert_int_equal(weir_json_int64(&v, &i), -1);
  free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds_and_text),
      cmocka_unit_test(test_nested_paths),
      cmocka_unit_test(test_root_path),
      cmocka_unit_test(test_empty_segments),
      cmocka_unit_test(test_skips_tricky_values),
      cmocka_unit_test(test_whitespace),
      cmocka_unit_test(test_string_escapes_kept),
      cmocka_unit_test(test_member_names_decoded),
      cmocka_unit_test(test_first_duplicate_wins),
      cmocka_unit_test(test_stops_after_answer),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_truncation_never_overreads),
      cmocka_unit_test(test_mutations_stay_in_bounds),
      cmocka_unit_test(test_int64),
      cmocka_unit_test(test_double),
      cmocka_unit_test(test_numbers_in_place),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
