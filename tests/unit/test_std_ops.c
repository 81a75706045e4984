/* Unit tests for the standard operators (plugins/std): loads the built std.so
 * through the host's loader, runs each operator in the fake host and checks
 * exactly which records come out (child, key, value, timestamp, headers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weir/weir.h>

#include "plugin/loader.h"
#include "support/op_harness.h"

#define PLUGIN_PATH WEIR_TEST_PLUGIN_DIR "/std.so"
#define PLUGIN_REF "std"

static int load_plugin(void **state) {
  return op_harness_load(PLUGIN_PATH, PLUGIN_REF);
}
static int unload_plugin(void **state) {
  return op_harness_unload();
}

/* ---------------------------------------------------------------- helpers */

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_PARAMS NULL
#define NO_CHILDREN NULL

static t_op_t *open_ok(const char *type, const char *const *params, const char *const *children) {
  t_op_t *t = t_open(type, params, children);
  if (t->init_rc != WEIR_OK)
    fail_msg("init of %s failed: %s", type, t->err);
  return t;
}

/* init must fail with rc and an errstr containing `needle`. */
static void expect_init_error(const char *type, const char *const *params,
                              const char *const *children, int rc, const char *needle) {
  t_op_t *t = t_open(type, params, children);
  assert_int_equal(t->init_rc, rc);
  if (!strstr(t->err, needle))
    fail_msg("errstr '%s' lacks '%s'", t->err, needle);
  t_close(t);
}

/* ---------------------------------------------------------------- plugin */

static void test_descriptor(void **state) {
  assert_int_equal(g_desc->abi_major, WEIR_ABI_MAJOR);
  assert_string_equal(g_desc->name, "std");
  const char *types[] = {"passthrough", "filter", "split", "rekey", "branch", "log"};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    const weir_operator_def_t *op = find_op(types[i]);
    assert_non_null(op->doc);
    for (const weir_param_def_t *p = op->params; p && p->name; p++)
      assert_non_null(p->doc);
  }
  assert_true(find_op("branch")->flags & WEIR_OP_ROUTES_BY_NAME);
}

/* ---------------------------------------------------------------- passthrough */

static void test_passthrough(void **state) {
  t_op_t *t = open_ok("passthrough", NO_PARAMS, NO_CHILDREN);
  assert_int_equal(t_push(t, "k", "v", 10), WEIR_OK);
  assert_int_equal(t_push(t, NULL, NULL, 11), WEIR_OK);
  assert_int_equal(t_push(t, "", "", 12), WEIR_OK);
  weir_header_t hdr[2] = {{"a", "1", 1}, {"b", NULL, 0}};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.value = "x";
  rec.value_len = 1;
  rec.timestamp = 13;
  rec.headers = hdr;
  rec.header_count = 2;
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  assert_int_equal(t_count(t), 4);
  t_expect(t, 0, NULL, "k", "v", 10);
  t_expect(t, 1, NULL, NULL, NULL, 11);
  t_expect(t, 2, NULL, "", "", 12);
  t_expect(t, 3, NULL, NULL, "x", 13);
  const fake_record_t *o = t_out(t, 3);
  assert_int_equal(o->header_count, 2);
  assert_string_equal(o->headers[0].name, "a");
  assert_memory_equal(o->headers[0].value, "1", 1);
  assert_string_equal(o->headers[1].name, "b");
  assert_null(o->headers[1].value);
  t_close(t);
}

static void test_passthrough_returns_child_error(void **state) {
  t_op_t *t = open_ok("passthrough", NO_PARAMS, NO_CHILDREN);
  t_set_forward_rc(t, WEIR_EFAIL);
  assert_int_equal(t_push(t, "k", "v", 1), WEIR_EFAIL);
  t_close(t);
}

/* ---------------------------------------------------------------- filter */

static void test_filter_keep_value(void **state) {
  t_op_t *t = open_ok("filter", P("pattern", "^ERROR"), NO_CHILDREN);
  t_push(t, "a", "ERROR disk full", 1);
  t_push(t, "b", "INFO ok", 2);
  t_push(t, "c", "an ERROR later", 3);
  t_push(t, "d", NULL, 4); /* tombstone: no value, never matches */
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, "a", "ERROR disk full", 1);
  assert_int_equal(t_dropped(t), 3);
  t_close(t);
}

static void test_filter_drop_action(void **state) {
  t_op_t *t = open_ok("filter", P("pattern", "debug", "action", "drop"), NO_CHILDREN);
  t_push(t, "a", "a debug line", 1);
  t_push(t, "b", "kept", 2);
  t_push(t, "c", NULL, 3); /* no value: does not match, so it is not dropped */
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "b", "kept", 2);
  t_expect(t, 1, NULL, "c", NULL, 3);
  assert_int_equal(t_dropped(t), 1);
  t_close(t);
}

static void test_filter_on_key(void **state) {
  t_op_t *t = open_ok("filter", P("pattern", "^user-[0-9]+$", "field", "key"), NO_CHILDREN);
  t_push(t, "user-17", "v1", 1);
  t_push(t, "user-x", "user-18", 2);
  t_push(t, NULL, "user-19", 3); /* no key never matches */
  t_push(t, "user-20", NULL, 4);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "user-17", "v1", 1);
  t_expect(t, 1, NULL, "user-20", NULL, 4);
  t_close(t);

  t = open_ok("filter", P("pattern", ".*", "field", "key", "action", "drop"), NO_CHILDREN);
  t_push(t, NULL, "keyless", 5); /* no key: not a match, so drop keeps it */
  t_push(t, "k", "v", 6);
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, NULL, "keyless", 5);
  t_close(t);
}

static void test_filter_binary_and_bounds(void **state) {
  t_op_t *t = open_ok("filter", P("pattern", "b$"), NO_CHILDREN);
  /* The regex sees exactly the record's bytes: an embedded NUL does not end
   * the value, and the byte after it (here 'b') is not part of it. */
  const char bytes[] = {'a', '\0', 'b', 'b'};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.value = bytes;
  rec.value_len = 3;
  rec.timestamp = 1;
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  rec.value_len = 2;
  rec.timestamp = 2; /* "a\0": no 'b' at its end */
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  assert_int_equal(t_count(t), 1);
  assert_int_equal(t_out(t, 0)->value_len, 3);
  assert_memory_equal(t_out(t, 0)->value, bytes, 3);
  /* A value longer than any before grows the buffer. */
  char big[5000];
  memset(big, 'x', sizeof big - 2);
  big[sizeof big - 2] = 'b';
  big[sizeof big - 1] = '\0';
  t_push(t, "k", big, 3);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 1, NULL, "k", big, 3);
  t_close(t);
}

static void test_filter_bad_regex(void **state) {
  expect_init_error("filter", P("pattern", "a("), NO_CHILDREN, WEIR_EINVAL, "pattern");
}

/* ---------------------------------------------------------------- split */

static void test_split_default_separator(void **state) {
  t_op_t *t = open_ok("split", NO_PARAMS, NO_CHILDREN);
  t_push(t, "line1", "the  quick fox ", 7);
  t_push(t, "line2", "", 8);   /* one empty piece: skipped */
  t_push(t, "line3", NULL, 9); /* a tombstone has no pieces */
  assert_int_equal(t_count(t), 3);
  t_expect(t, 0, NULL, "line1", "the", 7);
  t_expect(t, 1, NULL, "line1", "quick", 7);
  t_expect(t, 2, NULL, "line1", "fox", 7);
  assert_int_equal(t_dropped(t), 1);
  t_close(t);
}

static void test_split_keep_empty(void **state) {
  t_op_t *t = open_ok("split", P("separator", ",", "skip.empty", "false"), NO_CHILDREN);
  t_push(t, NULL, "a,,b,", 1);
  assert_int_equal(t_count(t), 4);
  t_expect(t, 0, NULL, NULL, "a", 1);
  t_expect(t, 1, NULL, NULL, "", 1);
  t_expect(t, 2, NULL, NULL, "b", 1);
  t_expect(t, 3, NULL, NULL, "", 1);
  t_close(t);
}

static void test_split_multichar_separator_lowercase(void **state) {
  t_op_t *t = open_ok("split", P("separator", "::", "lowercase", "true"), NO_CHILDREN);
  t_push(t, "K", "Alpha::BETA:gamma::", 5);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "K", "alpha", 5);
  t_expect(t, 1, NULL, "K", "beta:gamma", 5);
  t_close(t);
}

static void test_split_keeps_headers(void **state) {
  t_op_t *t = open_ok("split", NO_PARAMS, NO_CHILDREN);
  weir_header_t hdr[1] = {{"trace", "42", 2}};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.key = "k";
  rec.key_len = 1;
  rec.value = "a b";
  rec.value_len = 3;
  rec.timestamp = 99;
  rec.headers = hdr;
  rec.header_count = 1;
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "k", "a", 99);
  t_expect(t, 1, NULL, "k", "b", 99);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(t_out(t, i)->header_count, 1);
    assert_string_equal(t_out(t, i)->headers[0].name, "trace");
    assert_int_equal(t_out(t, i)->headers[0].value_len, 2);
  }
  t_close(t);
}

static void test_split_regex_matches(void **state) {
  t_op_t *t = open_ok("split", P("pattern", "[A-Za-z]+", "lowercase", "true"), NO_CHILDREN);
  t_push(t, "k", "Hello, World! 42 times", 3);
  assert_int_equal(t_count(t), 3);
  t_expect(t, 0, NULL, "k", "hello", 3);
  t_expect(t, 1, NULL, "k", "world", 3);
  t_expect(t, 2, NULL, "k", "times", 3);
  t_close(t);
}

static void test_split_regex_group(void **state) {
  t_op_t *t = open_ok("split", P("pattern", "id=([0-9]+)"), NO_CHILDREN);
  t_push(t, NULL, "id=1 x id=22 id= id=333", 4);
  assert_int_equal(t_count(t), 3);
  t_expect(t, 0, NULL, NULL, "1", 4);
  t_expect(t, 1, NULL, NULL, "22", 4);
  t_expect(t, 2, NULL, NULL, "333", 4);
  t_close(t);
}

static void test_split_regex_empty_matches(void **state) {
  /* x* matches the empty string everywhere: must terminate, and with
   * skip.empty=false emit the empty matches as well. */
  t_op_t *t = open_ok("split", P("pattern", "x*", "skip.empty", "false"), NO_CHILDREN);
  t_push(t, NULL, "axxb", 1);
  assert_int_equal(t_count(t), 4);
  t_expect(t, 0, NULL, NULL, "", 1);   /* before a */
  t_expect(t, 1, NULL, NULL, "xx", 1); /* at 1 */
  t_expect(t, 2, NULL, NULL, "", 1);   /* at 3 (before b) */
  t_expect(t, 3, NULL, NULL, "", 1);   /* at the end */
  t_close(t);
  t = open_ok("split", P("pattern", "x*"), NO_CHILDREN);
  t_push(t, NULL, "axxb", 1);
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, NULL, "xx", 1);
  t_close(t);
}

static void test_split_errors(void **state) {
  expect_init_error("split", P("separator", ""), NO_CHILDREN, WEIR_EINVAL, "separator");
  expect_init_error("split", P("pattern", "[a-"), NO_CHILDREN, WEIR_EINVAL, "pattern");
  t_op_t *t = open_ok("split", NO_PARAMS, NO_CHILDREN);
  t_set_forward_rc(t, WEIR_EFAIL);
  assert_int_equal(t_push(t, NULL, "a b c", 1), WEIR_EFAIL);
  assert_int_equal(t_count(t), 1); /* stops at the first failing child */
  t_close(t);
}

/* ---------------------------------------------------------------- rekey */

static void test_rekey_group(void **state) {
  t_op_t *t = open_ok("rekey", P("pattern", "user=([a-z0-9]+)"), NO_CHILDREN);
  t_push(t, "old", "ts=1 user=bob42 user=eve", 5);
  t_push(t, NULL, "user=al", 6);
  t_push(t, "old", "nobody", 7);
  t_push(t, "old", NULL, 8);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "bob42", "ts=1 user=bob42 user=eve", 5);
  t_expect(t, 1, NULL, "al", "user=al", 6);
  assert_int_equal(t_dropped(t), 2);
  t_close(t);
}

static void test_rekey_group0_and_second_group(void **state) {
  t_op_t *t = open_ok("rekey", P("pattern", "[0-9]+", "group", "0"), NO_CHILDREN);
  t_push(t, NULL, "abc 123 456", 1);
  t_expect(t, 0, NULL, "123", "abc 123 456", 1);
  t_close(t);
  t = open_ok("rekey", P("pattern", "(a+)(b+)?c", "group", "2"), NO_CHILDREN);
  t_push(t, NULL, "xaabbc", 2);
  t_push(t, "k", "xaac", 3); /* group 2 took no part: treated as no match */
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, "bb", "xaabbc", 2);
  t_close(t);
}

static void test_rekey_nomatch_keep_and_null(void **state) {
  t_op_t *t = open_ok("rekey", P("pattern", "id=([0-9]+)", "on.nomatch", "keep"), NO_CHILDREN);
  t_push(t, "old", "no id", 1);
  t_push(t, "old", "id=7", 2);
  t_push(t, "old", NULL, 3);
  assert_int_equal(t_count(t), 3);
  t_expect(t, 0, NULL, "old", "no id", 1);
  t_expect(t, 1, NULL, "7", "id=7", 2);
  t_expect(t, 2, NULL, "old", NULL, 3);
  t_close(t);
  t = open_ok("rekey", P("pattern", "id=([0-9]+)", "on.nomatch", "null"), NO_CHILDREN);
  t_push(t, "old", "no id", 4);
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, NULL, "no id", 4);
  t_close(t);
}

static void test_rekey_errors(void **state) {
  expect_init_error("rekey", P("pattern", "no groups"), NO_CHILDREN, WEIR_EINVAL, "group");
  expect_init_error("rekey", P("pattern", "(a)", "group", "2"), NO_CHILDREN, WEIR_EINVAL,
                    "1 capture group");
  expect_init_error("rekey", P("pattern", "(("), NO_CHILDREN, WEIR_EINVAL, "pattern");
}

/* ---------------------------------------------------------------- branch */

static const char *const three_children[] = {"errors", "warnings", "rest", NULL};

static void test_branch_first(void **state) {
  t_op_t *t =
      open_ok("branch", P("route", "errors: ^ERROR\nwarnings : ^(WARN|ERROR)"), three_children);
  t_push(t, "1", "ERROR x", 1);
  t_push(t, "2", "WARN y", 2);
  t_push(t, "3", "INFO z", 3);
  t_push(t, "4", NULL, 4);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, "errors", "1", "ERROR x", 1);
  t_expect(t, 1, "warnings", "2", "WARN y", 2);
  assert_int_equal(t_dropped(t), 2);
  t_close(t);
}

static void test_branch_all_and_default(void **state) {
  t_op_t *t = open_ok("branch",
                      P("route", "errors: ^ERROR", "route", "warnings: ^(WARN|ERROR)", "route",
                        "errors: disk", "mode", "all", "default", "rest"),
                      three_children);
  t_push(t, "1", "ERROR disk", 1); /* errors once, though two of its routes match */
  t_push(t, "2", "WARN disk", 2);
  t_push(t, "3", "INFO", 3);
  t_push(t, "4", NULL, 4); /* no value: matches nothing, goes to default */
  assert_int_equal(t_count(t), 6);
  t_expect(t, 0, "errors", "1", "ERROR disk", 1);
  t_expect(t, 1, "warnings", "1", "ERROR disk", 1);
  t_expect(t, 2, "warnings", "2", "WARN disk", 2);
  t_expect(t, 3, "errors", "2", "WARN disk", 2);
  t_expect(t, 4, "rest", "3", "INFO", 3);
  t_expect(t, 5, "rest", "4", NULL, 4);
  assert_int_equal(t_dropped(t), 0);
  t_close(t);
}

static void test_branch_on_key(void **state) {
  t_op_t *t = open_ok("branch", P("route", "errors: ^e", "field", "key", "default", "rest"),
                      three_children);
  t_push(t, "eu", "v", 1);
  t_push(t, "us", "eu", 2);
  t_push(t, NULL, "eu", 3);
  assert_int_equal(t_count(t), 3);
  t_expect(t, 0, "errors", "eu", "v", 1);
  t_expect(t, 1, "rest", "us", "eu", 2);
  t_expect(t, 2, "rest", NULL, "eu", 3);
  t_close(t);
}

static void test_branch_errors(void **state) {
  expect_init_error("branch", P("route", "errs: x"), three_children, WEIR_ENOENT,
                    "'errs' is not a child of 'words' (its children: errors, warnings, rest)");
  expect_init_error("branch", P("route", "errors: x", "default", "other"), three_children,
                    WEIR_ENOENT, "default: 'other'");
  expect_init_error("branch", P("route", "errors x"), three_children, WEIR_EINVAL,
                    "expected 'CHILD: REGEX'");
  expect_init_error("branch", P("route", "errors:  "), three_children, WEIR_EINVAL,
                    "expected 'CHILD: REGEX'");
  expect_init_error("branch", P("route", "errors: a(\nrest: b"), three_children, WEIR_EINVAL,
                    "bad regex 'a('");
  expect_init_error("branch", P("route", "x: y"), NO_CHILDREN, WEIR_ENOENT, "children: none");
}

static void test_branch_child_error(void **state) {
  t_op_t *t = open_ok("branch", P("route", "errors: .\nrest: .", "mode", "all"), three_children);
  t_set_forward_rc(t, WEIR_EFAIL);
  assert_int_equal(t_push(t, NULL, "v", 1), WEIR_EFAIL);
  assert_int_equal(t_count(t), 1);
  t_close(t);
}

/* ---------------------------------------------------------------- log */

static void test_log_line_and_forward(void **state) {
  t_op_t *t = open_ok("log", NO_PARAMS, NO_CHILDREN);
  t_push(t, "k1", "hello \"w\"\n\x01\\", 1700000000000);
  t_push(t, NULL, NULL, -1);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "k1", "hello \"w\"\n\x01\\", 1700000000000);
  t_expect(t, 1, NULL, NULL, NULL, -1);
  assert_int_equal(t_log_count(t), 2);
  assert_string_equal(t_log(t, 0), "in/3@42 key=\"k1\" value=\"hello \\\"w\\\"\\n\\x01\\\\\" "
                                   "ts=1700000000000");
  assert_string_equal(t_log(t, 1), "in/3@42 key=null value=null ts=-1");
  t_close(t);
}

static void test_log_prefix_and_cut(void **state) {
  t_op_t *t = open_ok("log", P("prefix", "dbg:", "max.bytes", "3"), NO_CHILDREN);
  t_push(t, "abcdef", "xyz", 5);
  t_expect(t, 0, NULL, "abcdef", "xyz", 5);
  assert_string_equal(t_log(t, 0), "dbg: in/3@42 key=\"abc\"...(+3 bytes) value=\"xyz\" ts=5");
  t_close(t);
  t = open_ok("log", P("max.bytes", "0"), NO_CHILDREN);
  t_push(t, "", "\xff", 6);
  assert_string_equal(t_log(t, 0), "in/3@42 key=\"\" value=\"\"...(+1 bytes) ts=6");
  t_close(t);
}

static void test_log_without_origin(void **state) {
  t_op_t *t = open_ok("log", NO_PARAMS, NO_CHILDREN);
  assert_int_equal(fake_host_set_origin(&t->h, NULL, 0, 0), 0);
  t_push(t, "k", "v", 2);
  assert_string_equal(t_log(t, 0), "-/0@0 key=\"k\" value=\"v\" ts=2");
  t_close(t);
}

static void test_log_disabled_still_forwards(void **state) {
  t_op_t *t = open_ok("log", NO_PARAMS, NO_CHILDREN);
  t->h.log_level = WEIR_LOG_WARN; /* INFO off: nothing formatted or logged */
  t_push(t, "k", "v", 1);
  assert_int_equal(t_log_count(t), 0);
  assert_int_equal(t_count(t), 1);
  t_expect(t, 0, NULL, "k", "v", 1);
  t_close(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_passthrough),
      cmocka_unit_test(test_passthrough_returns_child_error),
      cmocka_unit_test(test_filter_keep_value),
      cmocka_unit_test(test_filter_drop_action),
      cmocka_unit_test(test_filter_on_key),
      cmocka_unit_test(test_filter_binary_and_bounds),
      cmocka_unit_test(test_filter_bad_regex),
      cmocka_unit_test(test_split_default_separator),
      cmocka_unit_test(test_split_keep_empty),
      cmocka_unit_test(test_split_multichar_separator_lowercase),
      cmocka_unit_test(test_split_keeps_headers),
      cmocka_unit_test(test_split_regex_matches),
      cmocka_unit_test(test_split_regex_group),
      cmocka_unit_test(test_split_regex_empty_matches),
      cmocka_unit_test(test_split_errors),
      cmocka_unit_test(test_rekey_group),
      cmocka_unit_test(test_rekey_group0_and_second_group),
      cmocka_unit_test(test_rekey_nomatch_keep_and_null),
      cmocka_unit_test(test_rekey_errors),
      cmocka_unit_test(test_branch_first),
      cmocka_unit_test(test_branch_all_and_default),
      cmocka_unit_test(test_branch_on_key),
      cmocka_unit_test(test_branch_errors),
      cmocka_unit_test(test_branch_child_error),
      cmocka_unit_test(test_log_line_and_forward),
      cmocka_unit_test(test_log_prefix_and_cut),
      cmocka_unit_test(test_log_without_origin),
      cmocka_unit_test(test_log_disabled_still_forwards),
  };
  return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
