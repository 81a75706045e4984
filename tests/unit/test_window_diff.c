/* The window differential test's oracle (tests/e2e/window_diff.h) on
 * made-up outputs: it must see every kind of difference the test is there
 * to catch, and none between outputs that differ only in order or value
 * encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "e2e/window_diff.h"

static void add(wdiff_set_t *s, const char *key, const char *value) {
  assert_int_equal(wdiff_add(s, key, strlen(key), value, value ? strlen(value) : 0), 0);
}

/* An int64 as Kafka's LongSerializer writes it. */
static void add_long(wdiff_set_t *s, const char *key, int64_t n) {
  unsigned char v[8];
  for (int i = 0; i < 8; i++)
    v[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
  assert_int_equal(wdiff_add(s, key, strlen(key), v, 8), 0);
}

/* Runs the comparison; the diff goes to a memory buffer, returned in `text`. */
static size_t compare(wdiff_set_t *a, wdiff_set_t *b, char *text, size_t size) {
  FILE *f = fmemopen(text, size, "w");
  assert_non_null(f);
  size_t d = wdiff_compare(a, "weir", b, "kstreams", f, 10);
  fclose(f);
  return d;
}

static void test_same_windows_in_another_order_are_equal(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[1024] = "";
  (void)state;
  add(&a, "k1@0/5000", "3");
  add(&a, "k2@0/5000", "1");
  add(&a, "k1@5000/10000", "12");
  add(&b, "k1@5000/10000", "12");
  add(&b, "k1@0/5000", "3");
  add(&b, "k2@0/5000", "1");
  assert_int_equal(compare(&a, &b, text, sizeof text), 0);
  assert_string_equal(text, "");
  wdiff_free(&a);
  wdiff_free(&b);
}

/* weir's count forwards an 8-byte int64, Kafka Streams' app a decimal string. */
static void test_int64_and_decimal_counts_compare_equal(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[1024] = "";
  (void)state;
  add_long(&a, "k1@0/5000", 3);
  add_long(&a, "k1@5000/10000", 12345);
  add(&b, "k1@0/5000", "3");
  add(&b, "k1@5000/10000", "12345");
  assert_int_equal(compare(&a, &b, text, sizeof text), 0);
  wdiff_free(&a);
  wdiff_free(&b);
}

static void test_a_different_count_is_two_differences(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[1024] = "";
  (void)state;
  add(&a, "k1@0/5000", "3");
  add(&a, "k2@0/5000", "1");
  add(&b, "k1@0/5000", "4");
  add(&b, "k2@0/5000", "1");
  assert_int_equal(compare(&a, &b, text, sizeof text), 2);
  assert_non_null(strstr(text, "- k1@0/5000 = 3 (only in weir)"));
  assert_non_null(strstr(text, "+ k1@0/5000 = 4 (only in kstreams)"));
  wdiff_free(&a);
  wdiff_free(&b);
}

static void test_a_missing_window_and_a_shifted_one_show(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[1024] = "";
  (void)state;
  add(&a, "k1@0/5000", "3");
  add(&b, "k1@0/5000", "3");
  add(&b, "k1@5000/10000", "2"); /* weir dropped it (e.g. as late) */
  add(&a, "k2@1000/6000", "2");
  add(&b, "k2@1001/6001", "2"); /* off by one on a bound */
  assert_int_equal(compare(&a, &b, text, sizeof text), 3);
  assert_non_null(strstr(text, "+ k1@5000/10000 = 2 (only in kstreams)"));
  assert_non_null(strstr(text, "- k2@1000/6000 = 2 (only in weir)"));
  assert_non_null(strstr(text, "+ k2@1001/6001 = 2 (only in kstreams)"));
  wdiff_free(&a);
  wdiff_free(&b);
}

/* emit = final emits each window once: twice on one side is a difference. */
static void test_a_window_emitted_twice_is_a_difference(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[1024] = "";
  (void)state;
  add(&a, "k1@0/5000", "3");
  add(&a, "k1@0/5000", "3");
  add(&b, "k1@0/5000", "3");
  assert_int_equal(compare(&a, &b, text, sizeof text), 1);
  assert_non_null(strstr(text, "- k1@0/5000 = 3 (only in weir)"));
  wdiff_free(&a);
  wdiff_free(&b);
}

/* A binary windowed key (the default format) or a tombstone never passes
 * for a text key's count. */
static void test_binary_keys_and_tombstones_show(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[2048] = "";
  const unsigned char binkey[] = {'k', '1', 0, 0, 0, 0, 0, 0, 0, 0};
  (void)state;
  assert_int_equal(wdiff_add(&a, binkey, sizeof binkey, "3", 1), 0);
  add(&a, "k2@0/5000", NULL);
  add(&b, "k1@0/5000", "3");
  add(&b, "k2@0/5000", "1");
  assert_int_equal(compare(&a, &b, text, sizeof text), 4);
  assert_non_null(strstr(text, "<key 10 bytes: 6b 31 00"));
  assert_non_null(strstr(text, "- k2@0/5000 = <tombstone> (only in weir)"));
  wdiff_free(&a);
  wdiff_free(&b);
}

/* Empty against non-empty differs; the print stops at max_print. */
static void test_print_is_bounded_and_counts_all(void **state) {
  wdiff_set_t a = {0}, b = {0};
  char text[4096] = "", key[32];
  (void)state;
  for (int i = 0; i < 25; i++) {
    snprintf(key, sizeof key, "k%02d@0/5000", i);
    add(&b, key, "1");
  }
  assert_int_equal(compare(&a, &b, text, sizeof text), 25);
  assert_non_null(strstr(text, "... and 15 more differences"));
  assert_null(strstr(text, "k10@"));
  wdiff_free(&a);
  wdiff_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_windows_in_another_order_are_equal),
      cmocka_unit_test(test_int64_and_decimal_counts_compare_equal),
      cmocka_unit_test(test_a_different_count_is_two_differences),
      cmocka_unit_test(test_a_missing_window_and_a_shifted_one_show),
      cmocka_unit_test(test_a_window_emitted_twice_is_a_difference),
      cmocka_unit_test(test_binary_keys_and_tombstones_show),
      cmocka_unit_test(test_print_is_bounded_and_counts_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
