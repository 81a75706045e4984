/* When weir wakes a consumer's fetchers (kafka/fetch_wake.h): only after
 * the queue reached librdkafka's threshold (queued.min.messages records, or
 * queued.max.messages.kbytes, stopping a tenth short of either), once it is
 * down to half, and once per time it reached it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kafka/fetch_wake.h"

#define MIN_MSGS 1000
#define MAX_BYTES (64 * 1024 * 1024)

static int decide(int *throttled, size_t len, size_t avg) {
  return weir_fetch_wake_decide(throttled, len, avg, MIN_MSGS, MAX_BYTES);
}

static void test_by_count(void **state) {
  (void)state;
  int throttled = 0;
  assert_int_equal(decide(&throttled, 0, 100), 0); /* never full: nothing to wake */
  assert_int_equal(decide(&throttled, 899, 100), 0);
  assert_int_equal(throttled, 0);
  assert_int_equal(decide(&throttled, 900, 100), 0); /* at the threshold: the fetcher stops */
  assert_int_equal(throttled, 1);
  assert_int_equal(decide(&throttled, 700, 100), 0); /* draining, still over half */
  assert_int_equal(decide(&throttled, 501, 100), 0);
  assert_int_equal(decide(&throttled, 500, 100), 1); /* half: wake, once */
  assert_int_equal(throttled, 0);
  assert_int_equal(decide(&throttled, 200, 100), 0);
  assert_int_equal(decide(&throttled, 0, 100), 0);
  assert_int_equal(decide(&throttled, 1200, 100), 0); /* full again */
  assert_int_equal(decide(&throttled, 0, 100), 1);
}

static void test_by_bytes(void **state) {
  (void)state;
  int throttled = 0;
  size_t mib = 1024 * 1024;
  assert_int_equal(decide(&throttled, 50, mib), 0); /* 50 MiB: under 90% of 64 */
  assert_int_equal(throttled, 0);
  assert_int_equal(decide(&throttled, 58, mib), 0); /* 58 MiB: over 57.6 */
  assert_int_equal(throttled, 1);
  assert_int_equal(decide(&throttled, 33, mib), 0);
  assert_int_equal(decide(&throttled, 32, mib), 1);
}

static void test_no_handle(void **state) {
  (void)state;
  weir_fetch_wake_after_pull(NULL, NULL, 0, 123456); /* librdkafka >= 2.2: nothing to do */
  assert_int_equal(weir_fetch_wake_count(NULL), 0);
  weir_fetch_wake_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_by_count),
      cmocka_unit_test(test_by_bytes),
      cmocka_unit_test(test_no_handle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
