/* The at-least-once commit position: never past an input whose outputs are
 * not all acknowledged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "task/delivery.h"
#include "task/offset_tracker.h"
#include "task/task.h"

static void test_empty_has_no_position(void **state) {
  weir_offset_tracker_t t;
  assert_int_equal(weir_offset_tracker_init(&t), 0);
  assert_int_equal(weir_offset_tracker_position(&t), -1);
  weir_offset_tracker_free(&t);
}

static void test_record_without_outputs_is_committable_at_once(void **state) {
  weir_offset_tracker_t t;
  weir_offset_tracker_init(&t);
  uint64_t s = weir_offset_tracker_begin(&t, 10);
  assert_int_equal(weir_offset_tracker_position(&t), 10); /* being processed */
  weir_offset_tracker_end(&t, s);
  assert_int_equal(weir_offset_tracker_position(&t), 11);
  assert_int_equal(weir_offset_tracker_in_flight(&t), 0);
  weir_offset_tracker_free(&t);
}

/* Acks arrive out of order: the position moves only past a prefix of
 * fully acknowledged inputs. */
static void test_out_of_order_acks_hold_the_oldest(void **state) {
  weir_offset_tracker_t t;
  weir_offset_tracker_init(&t);
  uint64_t a = weir_offset_tracker_begin(&t, 0);
  weir_offset_tracker_add(&t, a);
  weir_offset_tracker_add(&t, a);
  weir_offset_tracker_end(&t, a);
  uint64_t b = weir_offset_tracker_begin(&t, 1);
  weir_offset_tracker_add(&t, b);
  weir_offset_tracker_end(&t, b);
  weir_offset_tracker_ack(&t, b, 0);
  assert_int_equal(weir_offset_tracker_position(&t), 0);
  weir_offset_tracker_ack(&t, a, 0);
  assert_int_equal(weir_offset_tracker_position(&t), 0); /* one of a's two still out */
  weir_offset_tracker_ack(&t, a, 0);
  assert_int_equal(weir_offset_tracker_position(&t), 2);
  weir_offset_tracker_free(&t);
}

static void test_failed_produce_holds_forever(void **state) {
  weir_offset_tracker_t t;
  weir_offset_tracker_init(&t);
  uint64_t a = weir_offset_tracker_begin(&t, 5);
  weir_offset_tracker_add(&t, a);
  weir_offset_tracker_end(&t, a);
  uint64_t b = weir_offset_tracker_begin(&t, 6);
  weir_offset_tracker_end(&t, b);
  weir_offset_tracker_ack(&t, a, 1);
  assert_int_equal(weir_offset_tracker_position(&t), 5);
  weir_offset_tracker_free(&t);
}

static void test_hold_keeps_position_before_record(void **state) {
  weir_offset_tracker_t t;
  weir_offset_tracker_init(&t);
  weir_offset_tracker_end(&t, weir_offset_tracker_begin(&t, 0));
  uint64_t bad = weir_offset_tracker_begin(&t, 1);
  weir_offset_tracker_hold(&t, bad);
  weir_offset_tracker_end(&t, bad);
  assert_int_equal(weir_offset_tracker_position(&t), 1);
  weir_offset_tracker_free(&t);
}

/* 100,000 inputs in flight at once: the ring grows and every late ack
 * still finds its entry through the 40-bit sequence in the opaque. */
static void test_growth_and_opaque_round_trip(void **state) {
  enum { N = 100000 };
  weir_offset_tracker_t t;
  weir_offset_tracker_init(&t);
  static void *opaques[N];
  for (int i = 0; i < N; i++) {
    uint64_t s = weir_offset_tracker_begin(&t, 1000 + i);
    weir_offset_tracker_add(&t, s);
    weir_offset_tracker_end(&t, s);
    opaques[i] = weir_delivery_tracked(7, s);
  }
  assert_int_equal(weir_offset_tracker_in_flight(&t), N);
  for (int i = N - 1; i >= 1; i--) {
    weir_delivery_t d = weir_delivery_decode(opaques[i]);
    assert_int_equal(d.kind, WEIR_DELIVERY_TRACKED);
    assert_int_equal(d.slot, 7);
    weir_offset_tracker_ack(&t, weir_delivery_seq_expand(&t, d.seq40), 0);
  }
  assert_int_equal(weir_offset_tracker_position(&t), 1000);
  weir_delivery_t d = weir_delivery_decode(opaques[0]);
  weir_offset_tracker_ack(&t, weir_delivery_seq_expand(&t, d.seq40), 0);
  assert_int_equal(weir_offset_tracker_position(&t), 1000 + N);
  weir_offset_tracker_free(&t);
}

/* The three kinds of report read back as what was encoded, and a tracked
 * one never reads as the others. */
static void test_delivery_kinds_round_trip(void **state) {
  (void)state;
  static struct weir_task_store *store = (struct weir_task_store *)&store;
  weir_delivery_t d = weir_delivery_decode(weir_delivery_changelog(store));
  assert_int_equal(d.kind, WEIR_DELIVERY_CHANGELOG);
  assert_ptr_equal(d.store, store);
  assert_int_equal(weir_delivery_decode(weir_delivery_untracked()).kind, WEIR_DELIVERY_UNTRACKED);
  d = weir_delivery_decode(weir_delivery_tracked((1u << 22) - 1, UINT64_MAX));
  assert_int_equal(d.kind, WEIR_DELIVERY_TRACKED);
  assert_int_equal(d.slot, (1u << 22) - 1);
  assert_int_equal(d.seq40, (UINT64_C(1) << 40) - 1);
  d = weir_delivery_decode(weir_delivery_tracked(0, 0));
  assert_int_equal(d.kind, WEIR_DELIVERY_TRACKED);
}

/* A delivery report for an entry already gone (an earlier assignment) is
 * ignored rather than corrupting a live one. */
static void test_stale_ack_is_ignored(void **state) {
  weir_offset_tracker_t t;
  weir_offset_tracker_init(&t);
  uint64_t old = weir_offset_tracker_begin(&t, 0);
  weir_offset_tracker_end(&t, old);
  uint64_t live = weir_offset_tracker_begin(&t, 1);
  weir_offset_tracker_add(&t, live);
  weir_offset_tracker_end(&t, live);
  weir_offset_tracker_ack(&t, old, 0);
  assert_int_equal(weir_offset_tracker_position(&t), 1);
  weir_offset_tracker_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_has_no_position),
      cmocka_unit_test(test_record_without_outputs_is_committable_at_once),
      cmocka_unit_test(test_out_of_order_acks_hold_the_oldest),
      cmocka_unit_test(test_failed_produce_holds_forever),
      cmocka_unit_test(test_hold_keeps_position_before_record),
      cmocka_unit_test(test_growth_and_opaque_round_trip),
      cmocka_unit_test(test_delivery_kinds_round_trip),
      cmocka_unit_test(test_stale_ack_is_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
