/* The weir program fixes glibc's mmap threshold (cli/malloc_tune.h): a
 * large block freed and asked for again is mapped again, where glibc's
 * dynamic threshold would carve it from the heap, whose holes pinned RSS;
 * and its trim threshold at twice that, so the top of the heap is not
 * handed back after every large free; a threshold the user set in the
 * environment is left alone. */
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

/* Bytes the top of the heap keeps after 1.5 MiB of blocks below the mmap
 * threshold were freed into it: all of them unless the heap was trimmed. */
static size_t top_kept_after_free(void) {
  enum { N = 6, SIZE = 256 * 1024 };
  void *b[N];
  for (int i = 0; i < N; i++) {
    b[i] = malloc(SIZE);
    assert_non_null(b[i]);
  }
  for (int i = N - 1; i >= 0; i--)
    free(b[i]);
  return mallinfo2().keepcost;
}
#endif

static void test_threshold_fixed(void **state) {
  (void)state;
#if defined(__GLIBC__)
  /* What glibc does by itself: trims the heap at 128 KiB, until the freed
   * map below raises both thresholds. */
  size_t untuned_top = top_kept_after_free();
  int untuned = second_block_mapped(BLOCK);
  weir_malloc_tune_result_t rc = weir_malloc_tune(NULL, NULL, NULL);
  if (rc == WEIR_MALLOC_NOT_GLIBC)
    skip(); /* a sanitizer's allocator */
  assert_int_equal(rc, WEIR_MALLOC_TUNED);
  assert_int_equal(untuned, 0);
  assert_true(untuned_top < 1024 * 1024);
  assert_true(top_kept_after_free() >= 1536 * 1024); /* below the 2 MiB trim threshold */
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
      weir_malloc_tune("glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536", NULL, NULL),
      WEIR_MALLOC_USER_SET);
  assert_int_equal(weir_malloc_tune(NULL, "262144", NULL), WEIR_MALLOC_USER_SET);
  /* Another tunable alone does not set the threshold. */
  assert_int_not_equal(weir_malloc_tune("glibc.malloc.arena_max=2", "", NULL),
                       WEIR_MALLOC_USER_SET);
}

/* A trim threshold the user set stays theirs (here 128 KiB, set as the
 * environment would have before main). */
static void test_user_trim_kept(void **state) {
  (void)state;
#if defined(__GLIBC__)
  if (weir_malloc_tune(NULL, NULL, NULL) == WEIR_MALLOC_NOT_GLIBC)
    skip();
  assert_int_equal(mallopt(M_TRIM_THRESHOLD, 128 * 1024), 1);
  assert_int_equal(weir_malloc_tune(NULL, NULL, "131072"), WEIR_MALLOC_TUNED);
  assert_true(top_kept_after_free() < 1024 * 1024);
  assert_int_equal(weir_malloc_tune("glibc.malloc.trim_threshold=131072", NULL, NULL),
                   WEIR_MALLOC_TUNED);
  assert_true(top_kept_after_free() < 1024 * 1024);
  assert_int_equal(weir_malloc_tune(NULL, NULL, ""), WEIR_MALLOC_TUNED); /* empty: unset */
  assert_true(top_kept_after_free() >= 1536 * 1024);
#else
  skip();
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threshold_fixed),
      cmocka_unit_test(test_user_setting_kept),
      cmocka_unit_test(test_user_trim_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
