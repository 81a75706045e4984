/* Unit: a task's stream time in its committed offsets' metadata
 * (task/timestamp.h), read back when the task opens elsewhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "task/timestamp.h"

static int64_t round_trip(int64_t t) {
  char buf[WEIR_STREAM_TIME_META];
  size_t n = weir_stream_time_encode(t, buf);
  assert_true(n > 0 && n < sizeof buf);
  return weir_stream_time_decode(buf, n);
}

static void test_round_trip(void **state) {
  (void)state;
  assert_int_equal(round_trip(0), 0);
  assert_int_equal(round_trip(1700000000123), 1700000000123);
  assert_int_equal(round_trip(INT64_MAX), INT64_MAX);
}

/* Readable by a person listing the group's offsets. */
static void test_text(void **state) {
  (void)state;
  char buf[WEIR_STREAM_TIME_META];
  size_t n = weir_stream_time_encode(1700000000000, buf);
  assert_int_equal(n, strlen("weir:st=1700000000000"));
  assert_memory_equal(buf, "weir:st=1700000000000", n);
}

/* Another client's metadata, an older weir's (none), or damage: no time. */
static void test_foreign_or_broken(void **state) {
  (void)state;
  static const char *bad[] = {"",
                              "weir:st=",
                              "weir:st=-5",
                              "weir:st=12x",
                              "weir:xx=12",
                              "AgAAAYz",
                              "weir:st=99999999999999999999999"};
  assert_int_equal(weir_stream_time_decode(NULL, 0), -1);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(weir_stream_time_decode(bad[i], strlen(bad[i])), -1);
  /* Not NUL-terminated: only `size` bytes are read. */
  assert_int_equal(weir_stream_time_decode("weir:st=42junk", 10), 42);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_foreign_or_broken),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
