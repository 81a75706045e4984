/* A task's input queues: FIFO per partition, growth, and the event-time pick
 * across partitions. Messages are stand-ins: only their identity matters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "task/input_queue.h"

static rd_kafka_message_t fake[300];

static void test_fifo_and_growth(void **state) {
  weir_input_queue_t q = {0};
  for (int i = 0; i < 300; i++)
    assert_int_equal(weir_input_queue_push_ts(&q, &fake[i], i), 0);
  assert_int_equal(q.count, 300);
  for (int i = 0; i < 300; i++)
    assert_ptr_equal(weir_input_queue_pop(&q), &fake[i]);
  assert_null(weir_input_queue_pop(&q));
  weir_input_queue_free(&q);
}

/* Wrap-around: pop some, push more, the order holds across the ring's end. */
static void test_wraparound(void **state) {
  weir_input_queue_t q = {0};
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < 50; i++, next_in++)
      weir_input_queue_push_ts(&q, &fake[next_in % 300], next_in);
    for (int i = 0; i < 40; i++, next_out++)
      assert_ptr_equal(weir_input_queue_pop(&q), &fake[next_out % 300]);
  }
  assert_int_equal(q.count, 100);
  free(q.ring);
}

static void test_pick_smallest_timestamp_first(void **state) {
  weir_input_queue_t qs[3] = {{0}};
  weir_input_queue_push_ts(&qs[0], &fake[0], 30);
  weir_input_queue_push_ts(&qs[0], &fake[1], 31);
  weir_input_queue_push_ts(&qs[1], &fake[2], 10);
  weir_input_queue_push_ts(&qs[2], &fake[3], 20);
  weir_input_queue_push_ts(&qs[2], &fake[4], 40);
  static const int want_queue[] = {1, 2, 0, 0, 2};
  for (int i = 0; i < 5; i++) {
    int q = weir_input_queue_pick(qs, 3);
    assert_int_equal(q, want_queue[i]);
    weir_input_queue_pop(&qs[q]);
  }
  assert_int_equal(weir_input_queue_pick(qs, 3), -1);
  for (int i = 0; i < 3; i++)
    free(qs[i].ring);
}

static void test_tie_goes_to_lowest_index(void **state) {
  weir_input_queue_t qs[2] = {{0}};
  weir_input_queue_push_ts(&qs[1], &fake[0], 5);
  weir_input_queue_push_ts(&qs[0], &fake[1], 5);
  assert_int_equal(weir_input_queue_pick(qs, 2), 0);
  free(qs[0].ring);
  free(qs[1].ring);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_and_growth),
      cmocka_unit_test(test_wraparound),
      cmocka_unit_test(test_pick_smallest_timestamp_first),
      cmocka_unit_test(test_tie_goes_to_lowest_index),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
