/* max.task.idle.ms's decision (task/task_idle.h), Kafka Streams' rule of
 * KIP-695: per input partition its buffered records, position, cached high
 * watermark (-1: not known) and when it became idle; the verdict, the
 * wake-up time and the expired waits counted once each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "task/task_idle.h"

/* An input with `buffered` records, at `position` of a partition whose
 * high watermark is `high`; not idle. */
static weir_idle_input_t input(size_t buffered, int64_t position, int64_t high) {
  return (weir_idle_input_t){buffered, position, high, -1, 0};
}

static weir_idle_verdict_t decide(weir_idle_input_t *in, size_t n, int64_t max, int64_t now,
                                  int64_t *wake, unsigned *expired) {
  return weir_idle_decide(in, n, max, now, wake, expired);
}

static void test_every_input_buffered_processes(void **state) {
  (void)state;
  weir_idle_input_t in[2] = {input(3, -1, -1), input(1, -1, -1)};
  int64_t wake;
  unsigned expired;
  assert_int_equal(decide(in, 2, 0, 1000, &wake, &expired), WEIR_IDLE_PROCESS);
  assert_int_equal(expired, 0);
  assert_true(wake == INT64_MAX);
}

/* Before its first fetch answer a partition's lag is not known: the task
 * waits, whatever the setting, and no timer runs (only a fetch ends it). */
static void test_unknown_lag_waits(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t no_high[2] = {input(5, 10, 20), input(0, 7, -1)};
  assert_int_equal(decide(no_high, 2, 0, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  assert_true(wake == INT64_MAX);
  assert_int_equal(no_high[1].idle_since, -1);
  weir_idle_input_t no_position[2] = {input(5, 10, 20), input(0, -1, 0)};
  assert_int_equal(decide(no_position, 2, 50, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  assert_true(wake == INT64_MAX);
}

/* Records on the broker not fetched yet: wait for them, even with 0 and
 * long after: the timer starts only once the partition is caught up. */
static void test_lag_waits_without_a_timer(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t in[2] = {input(5, 10, 20), input(0, 99, 100)};
  assert_int_equal(decide(in, 2, 0, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(decide(in, 2, 0, 999999, &wake, &expired), WEIR_IDLE_WAIT);
  assert_true(wake == INT64_MAX);
  assert_int_equal(expired, 0);
  in[1].position = 100; /* fetched and processed to the end */
  assert_int_equal(decide(in, 2, 0, 1000001, &wake, &expired), WEIR_IDLE_ENFORCED);
  assert_int_equal(expired, 1);
}

/* 0: a caught-up empty input is not waited for; going on without it is
 * counted once per time it became so, not once per decision. */
static void test_zero_goes_on_once_caught_up(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t in[2] = {input(5, 10, 20), input(0, 100, 100)};
  assert_int_equal(decide(in, 2, 0, 1000, &wake, &expired), WEIR_IDLE_ENFORCED);
  assert_int_equal(expired, 1);
  assert_int_equal(in[1].expired, 1);
  assert_int_equal(decide(in, 2, 0, 1001, &wake, &expired), WEIR_IDLE_ENFORCED);
  assert_int_equal(expired, 0);
  in[1].buffered = 1; /* a record of it came: that wait is over */
  assert_int_equal(decide(in, 2, 0, 1002, &wake, &expired), WEIR_IDLE_PROCESS);
  assert_int_equal(in[1].expired, 0);
  in[1].buffered = 0;
  in[1].position = in[1].high = 101;
  assert_int_equal(decide(in, 2, 0, 1003, &wake, &expired), WEIR_IDLE_ENFORCED);
  assert_int_equal(expired, 1);
}

/* N > 0: once caught up, wait up to N ms from the first time the task found
 * it so, with the wake-up time given for the poll; then go on. */
static void test_positive_waits_up_to_n_ms(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t in[2] = {input(5, 10, 20), input(0, 100, 100)};
  assert_int_equal(decide(in, 2, 100, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(wake, 1100);
  assert_int_equal(in[1].idle_since, 1000);
  assert_int_equal(decide(in, 2, 100, 1099, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(wake, 1100);
  assert_int_equal(expired, 0);
  assert_int_equal(decide(in, 2, 100, 1100, &wake, &expired), WEIR_IDLE_ENFORCED);
  assert_int_equal(expired, 1);
  assert_true(wake == INT64_MAX);
}

/* The idle time restarts when the partition is behind again in between. */
static void test_lag_again_restarts_the_idle_time(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t in[2] = {input(5, 10, 20), input(0, 100, 100)};
  assert_int_equal(decide(in, 2, 100, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  in[1].high = 105; /* more on the broker */
  assert_int_equal(decide(in, 2, 100, 1050, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(in[1].idle_since, -1);
  assert_true(wake == INT64_MAX);
  in[1].position = 105;
  assert_int_equal(decide(in, 2, 100, 1060, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(wake, 1160);
  assert_int_equal(decide(in, 2, 100, 1159, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(decide(in, 2, 100, 1160, &wake, &expired), WEIR_IDLE_ENFORCED);
}

/* One input behind holds the task even when another's wait expired; that
 * expiry is not counted until the task does go on without it. */
static void test_one_behind_holds_the_others(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t in[3] = {input(5, 10, 20), input(0, 100, 100), input(0, 3, 9)};
  assert_int_equal(decide(in, 3, 0, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(expired, 0);
  assert_int_equal(in[1].expired, 0);
  in[2].position = 9;
  assert_int_equal(decide(in, 3, 0, 1001, &wake, &expired), WEIR_IDLE_ENFORCED);
  assert_int_equal(expired, 2);
}

/* Nothing buffered anywhere: nothing to process, whatever the lags. */
static void test_nothing_buffered_waits(void **state) {
  (void)state;
  int64_t wake;
  unsigned expired;
  weir_idle_input_t in[2] = {input(0, 10, 10), input(0, 100, 100)};
  assert_int_equal(decide(in, 2, 0, 1000, &wake, &expired), WEIR_IDLE_WAIT);
  assert_int_equal(expired, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_input_buffered_processes),
      cmocka_unit_test(test_unknown_lag_waits),
      cmocka_unit_test(test_lag_waits_without_a_timer),
      cmocka_unit_test(test_zero_goes_on_once_caught_up),
      cmocka_unit_test(test_positive_waits_up_to_n_ms),
      cmocka_unit_test(test_lag_again_restarts_the_idle_time),
      cmocka_unit_test(test_one_behind_holds_the_others),
      cmocka_unit_test(test_nothing_buffered_waits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
