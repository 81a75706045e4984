/* The weir program fixes glibc's mmap threshold (cli/malloc_tune.h): a
 * large block freed and asked for again is mapped again, where glibc's
 * dynamic threshold would carve it from the heap, whose holes pinned RSS;
 * a threshold the user set in the environment is left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/malloc_tune.h"

enum { BLOCK = 1 << 20 }; /* a RocksDB memtable block */

#if defined(__GLIBC__)
/* Bytes of mapped blocks malloc holds now. */
static size_t mapped_bytes(void) {
  struct mallinfo2 m = mallinfo2();
  return m.hblkhd;
}

/* Whether a block of `size` asked for after one was freed is mapped. */
static int second_block_mapped(size_t size) {
  void *first = malloc(size);
  assert_non_null(first);
  free(first);
  size_t before = mapped_bytes();
  void *second = malloc(size);
  assert_non_null(second);
  int mapped = mapped_bytes() >= before + size;
  free(second);
  return mapped;
}
#endif

static void test_threshold_fixed(void **state) {
  (void)state;
#if defined(__GLIBC__)
  /* What glibc does by itself: the freed map raised the threshold. */
  int untuned = second_block_mapped(BLOCK);
  weir_malloc_tune_result_t rc = weir_malloc_tune(NULL, NULL);
  if (rc == WEIR_MALLOC_NOT_GLIBC)
    skip(); /* a sanitizer's allocator */
  assert_int_equal(rc, WEIR_MALLOC_TUNED);
  assert_int_equal(untuned, 0);
  /* Larger than the block the heap now holds free (which malloc rightly
   * reuses); untuned, the first free would raise the threshold past it. */
  assert_int_equal(second_block_mapped(4 * BLOCK), 1);
  assert_int_equal(second_block_mapped(4 * BLOCK), 1); /* and it stays fixed */
#else
  skip();
#endif
}

static void test_user_setting_kept(void **state) {
  (void)state;
  assert_int_equal(
      weir_malloc_tune("glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536", NULL),
      WEIR_MALLOC_USER_SET);
  assert_int_equal(weir_malloc_tune(NULL, "262144"), WEIR_MALLOC_USER_SET);
  /* Another tunable alone does not set the threshold. */
  assert_int_not_equal(weir_malloc_tune("glibc.malloc.arena_max=2", ""), WEIR_MALLOC_USER_SET);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threshold_fixed),
      cmocka_unit_test(test_user_setting_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
