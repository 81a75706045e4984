/* record_abi.h: the record size rule (weir.h) for a host whose record is
 * larger than the writer's. This host's record is still the 1.0 one, so the
 * "later" record below stands for a host of a later minor that appended
 * fields: a 1.0 writer's record must be read with those fields zero, never
 * with whatever the writer's memory holds after its struct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "task/record_abi.h"

typedef struct later_record {
  weir_record_t v1;
  const void *appended;
  size_t appended_len;
} later_record_t;

/* A 1.0 writer's record in memory whose bytes after the struct are junk. */
typedef union writer_memory {
  later_record_t as_later;
  unsigned char bytes[sizeof(later_record_t)];
} writer_memory_t;

static void fill_1_0(writer_memory_t *m) {
  memset(m->bytes, 0xAB, sizeof m->bytes);
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.struct_size = (uint32_t)WEIR_RECORD_SIZE_1_0;
  rec.key = "k";
  rec.key_len = 1;
  rec.value = "value";
  rec.value_len = 5;
  rec.timestamp = 42;
  memcpy(m->bytes, &rec, WEIR_RECORD_SIZE_1_0);
}

static void test_the_1_0_size(void **state) {
  (void)state;
  /* What the frozen 1.0 header's record occupies on this platform. */
  assert_int_equal(WEIR_RECORD_SIZE_1_0, 2 * sizeof(uint32_t) + 3 * sizeof(void *) +
                                             3 * sizeof(size_t) + sizeof(int64_t));
  assert_true(sizeof(weir_record_t) >= WEIR_RECORD_SIZE_1_0);
}

static void test_smaller_writer_widened_with_zeros(void **state) {
  (void)state;
  writer_memory_t m;
  later_record_t full;
  fill_1_0(&m);
  const weir_record_t *in = weir_record_import(&m.as_later.v1, &full, sizeof full);
  assert_ptr_equal(in, &full.v1);
  assert_int_equal(in->struct_size, sizeof full);
  assert_memory_equal(in->key, "k", 1);
  assert_memory_equal(in->value, "value", 5);
  assert_int_equal(in->value_len, 5);
  assert_int_equal(in->timestamp, 42);
  assert_null(in->headers);
  assert_int_equal(in->header_count, 0);
  assert_null(full.appended);
  assert_int_equal(full.appended_len, 0);
}

static void test_same_or_larger_writer_read_in_place(void **state) {
  (void)state;
  writer_memory_t m;
  later_record_t full;
  fill_1_0(&m);
  assert_ptr_equal(weir_record_import(&m.as_later.v1, &full, sizeof(weir_record_t)),
                   &m.as_later.v1);
  m.as_later.v1.struct_size = (uint32_t)sizeof m;
  assert_ptr_equal(weir_record_import(&m.as_later.v1, &full, sizeof full), &m.as_later.v1);
}

static void test_smaller_than_1_0_refused(void **state) {
  (void)state;
  writer_memory_t m;
  later_record_t full;
  fill_1_0(&m);
  m.as_later.v1.struct_size = (uint32_t)(WEIR_RECORD_SIZE_1_0 - 1);
  assert_null(weir_record_import(&m.as_later.v1, &full, sizeof full));
  m.as_later.v1.struct_size = 0;
  assert_null(weir_record_import(&m.as_later.v1, &full, sizeof(weir_record_t)));
  assert_null(weir_record_import(NULL, &full, sizeof full));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_the_1_0_size),
      cmocka_unit_test(test_smaller_writer_widened_with_zeros),
      cmocka_unit_test(test_same_or_larger_writer_read_in_place),
      cmocka_unit_test(test_smaller_than_1_0_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
