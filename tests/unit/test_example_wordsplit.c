/* Unit tests for the tutorial plugin plugins/examples/wordsplit: loads the
 * built examples/wordsplit.so through the host's loader, runs split-words in
 * the fake host and checks exactly which records come out. */
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

#define PLUGIN_PATH WEIR_TEST_PLUGIN_DIR "/examples/wordsplit.so"
#define PLUGIN_REF "examples/wordsplit"

static int load_plugin(void **state) {
  return op_harness_load(PLUGIN_PATH, PLUGIN_REF);
}
static int unload_plugin(void **state) {
  return op_harness_unload();
}

/* ---------------------------------------------------------------- tests */

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_descriptor(void **state) {
  assert_string_equal(g_desc->name, "wordsplit");
  const weir_operator_def_t *op = find_op("split-words");
  assert_non_null(op->params);
  assert_string_equal(op->params[0].name, "min.length");
  assert_string_equal(op->params[0].default_value, "1");
  assert_null(op->params[1].name);
}

static void test_words(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  assert_int_equal(t->init_rc, WEIR_OK);
  assert_int_equal(t_push(t, "line", "The cat, the HAT!  R2D2 a", 100), WEIR_OK);
  assert_int_equal(t_count(t), 6);
  t_expect(t, 0, NULL, "the", "the", 100);
  t_expect(t, 1, NULL, "cat", "cat", 100);
  t_expect(t, 2, NULL, "the", "the", 100);
  t_expect(t, 3, NULL, "hat", "hat", 100);
  t_expect(t, 4, NULL, "r2d2", "r2d2", 100);
  t_expect(t, 5, NULL, "a", "a", 100);
  t_close(t);
}

static void test_no_words(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  assert_int_equal(t_push(t, "k", "", 1), WEIR_OK);
  assert_int_equal(t_push(t, "k", " ,.;-- ", 2), WEIR_OK);
  assert_int_equal(t_push(t, "k", NULL, 3), WEIR_OK); /* tombstone */
  assert_int_equal(t_count(t), 0);
  t_close(t);
}

static void test_min_length(void **state) {
  t_op_t *t = t_open("split-words", P("min.length", "3"), NULL);
  assert_int_equal(t->init_rc, WEIR_OK);
  t_push(t, NULL, "a an ant ANTS", 9);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "ant", "ant", 9);
  t_expect(t, 1, NULL, "ants", "ants", 9);
  t_close(t);
}

static void test_non_ascii_and_headers(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  /* UTF-8 bytes are not ASCII letters, so they separate words. */
  weir_header_t hdr[1] = {{"h", "v", 1}};
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.value = "caf\xc3\xa9 ok";
  rec.value_len = strlen(rec.value);
  rec.timestamp = 5;
  rec.headers = hdr;
  rec.header_count = 1;
  assert_int_equal(t_push_rec(t, &rec), WEIR_OK);
  assert_int_equal(t_count(t), 2);
  t_expect(t, 0, NULL, "caf", "caf", 5);
  t_expect(t, 1, NULL, "ok", "ok", 5);
  assert_int_equal(t_out(t, 0)->header_count, 1);
  assert_string_equal(t_out(t, 0)->headers[0].name, "h");
  t_close(t);
}

static void test_child_error_stops(void **state) {
  t_op_t *t = t_open("split-words", NULL, NULL);
  t_set_forward_rc(t, WEIR_EFAIL);
  assert_int_equal(t_push(t, NULL, "one two", 1), WEIR_EFAIL);
  assert_int_equal(t_count(t), 1);
  t_close(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor),
      cmocka_unit_test(test_words),
      cmocka_unit_test(test_no_words),
      cmocka_unit_test(test_min_length),
      cmocka_unit_test(test_non_ascii_and_headers),
      cmocka_unit_test(test_child_error_stops),
  };
  return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
