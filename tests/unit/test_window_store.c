/* window_store / session_store: fetch order over the cache laid on RocksDB,
 * expiry by whole segments (one range delete, no per-key work), puts past
 * retention ignored, session finds, and the restore's retention filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weir/weir.h>

#include "state/session_store.h"
#include "state/window_store.h"
#include "support/state_fixture.h"

enum { SIZE = 10000, RETENTION = 120000 }; /* segment interval: 60000 */

typedef struct {
  weir_test_db_t t;
  weir_kv_store_t *kv;
  weir_window_store_t *ws;
} fx_t;

static int open_kind(void **state, int kind) {
  fx_t *fx = calloc(1, sizeof *fx);
  *state = fx;
  if (weir_test_db_open(&fx->t, "weir-win"))
    return -1;
  fx->kv = weir_kv_store_new(fx->t.db, "w", 0, &fx->t.budget);
  fx->ws = weir_window_store_new(fx->kv, kind, SIZE, RETENTION);
  return fx->kv && fx->ws ? 0 : -1;
}

static int setup_window(void **state) {
  return open_kind(state, WEIR_STORE_WINDOW);
}
static int setup_session(void **state) {
  return open_kind(state, WEIR_STORE_SESSION);
}

static int teardown(void **state) {
  fx_t *fx = *state;
  weir_window_store_free(fx->ws);
  weir_kv_store_free(fx->kv);
  weir_test_db_close(&fx->t);
  free(fx);
  return 0;
}

static int flushed;
static int count_flush(void *opaque, const void *k, size_t kl, const void *v, size_t vl) {
  (void)opaque, (void)k, (void)kl, (void)v, (void)vl;
  flushed++;
  return 0;
}

/* A commit as task_state does it: cache, then dropped segments, then write.
 * Returns the batch's operation count. */
static size_t commit(fx_t *fx) {
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(fx->kv, b, count_flush, NULL), 0);
  weir_window_store_flush(fx->ws, b);
  size_t n = weir_state_batch_count(b);
  assert_int_equal(weir_state_batch_write(fx->t.db, b, fx->t.err, sizeof fx->t.err), 0);
  weir_kv_store_batch_written(fx->kv);
  weir_state_batch_free(b);
  return n;
}

/* RocksDB's rows of the store, whatever the cache holds. */
static size_t db_rows(fx_t *fx) {
  weir_state_iter_t *it = weir_state_iter_range(fx->t.db, "w", 0, NULL, 0, NULL, 0);
  const void *k, *v;
  size_t kl, vl, n = 0;
  while (weir_state_iter_next(it, &k, &kl, &v, &vl) > 0)
    n++;
  weir_state_iter_close(it);
  return n;
}

static void wput(fx_t *fx, const char *key, int64_t start, const char *value) {
  assert_int_equal(
      weir_window_store_put(fx->ws, key, strlen(key), start, value, value ? strlen(value) : 0), 0);
}

/* The iterator's items as "key@start/end=value " text. */
static void render(weir_window_iter_t *it, char *out, size_t size) {
  const void *k, *v;
  size_t kl, vl, used = 0;
  int64_t s, e;
  out[0] = '\0';
  assert_non_null(it);
  while (weir_window_iter_next(it, &k, &kl, &v, &vl, &s, &e) > 0)
    used += (size_t)snprintf(out + used, size - used, "%.*s@%lld/%lld=%.*s ", (int)kl,
                             (const char *)k, (long long)s, (long long)e, (int)vl, (const char *)v);
  weir_window_iter_close(it);
}

static void test_fetch_in_start_order_over_cache_and_rocksdb(void **state) {
  fx_t *fx = *state;
  char out[1024], err[256];
  wput(fx, "a", 70000, "3");
  wput(fx, "b", 10000, "x");
  commit(fx); /* these two from RocksDB, the rest from the cache */
  wput(fx, "a", 10000, "2");
  wput(fx, "a", 0, "1");
  wput(fx, "ab", 5000, "no"); /* a longer key with the same first byte */
  render(weir_window_store_fetch(fx->ws, "a", 1, 0, 100000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@0/10000=1 a@10000/20000=2 a@70000/80000=3 ");
  render(weir_window_store_fetch(fx->ws, "a", 1, 5000, 69999, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@10000/20000=2 ");
  render(weir_window_store_fetch(fx->ws, "a", 1, 10000, 10000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@10000/20000=2 "); /* the exact-window lookup */
  render(weir_window_store_fetch_all(fx->ws, 0, 100000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@0/10000=1 ab@5000/15000=no a@10000/20000=2 b@10000/20000=x "
                           "a@70000/80000=3 ");
  wput(fx, "a", 10000, NULL); /* a delete hides RocksDB's row too */
  wput(fx, "b", 10000, NULL);
  render(weir_window_store_fetch_all(fx->ws, 10000, 10000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "");
}

static void test_expiry_drops_whole_segments_with_one_range_delete(void **state) {
  fx_t *fx = *state;
  char out[1024], err[256];
  weir_window_store_advance(fx->ws, 0);
  for (int k = 0; k < 100; k++) { /* 100 keys in segment 0, 100 in segment 1 */
    char key[16];
    snprintf(key, sizeof key, "k%03d", k);
    wput(fx, key, 1000, "old");
    wput(fx, key, 61000, "mid");
  }
  commit(fx);
  assert_int_equal(db_rows(fx), 200);
  /* Segment 0 (starts 0..59999) ends by 69999: at stream time 69999 +
   * retention its last window is still live, so it stays. */
  weir_window_store_advance(fx->ws, 69999 + RETENTION);
  assert_int_equal(commit(fx), 1); /* the range delete below segment 0: nothing */
  assert_int_equal(db_rows(fx), 200);
  wput(fx, "late", 59999, "dirty"); /* live exactly at the limit; dirty when it expires */
  weir_window_store_advance(fx->ws, 70000 + RETENTION);
  flushed = 0;
  /* One operation, the range delete; the expired dirty entry is neither
   * produced nor written. */
  assert_int_equal(commit(fx), 1);
  assert_int_equal(flushed, 0);
  assert_int_equal(db_rows(fx), 100);
  render(weir_window_store_fetch(fx->ws, "k007", 4, 0, INT64_MAX, err, sizeof err), out,
         sizeof out);
  assert_string_equal(out, "k007@61000/71000=mid ");
  /* A window in a live segment but itself past retention is not read... */
  weir_window_store_advance(fx->ws, 71001 + RETENTION);
  render(weir_window_store_fetch(fx->ws, "k007", 4, 0, INT64_MAX, err, sizeof err), out,
         sizeof out);
  assert_string_equal(out, "");
  /* ...and a put of one is ignored. */
  assert_int_equal(weir_window_store_put(fx->ws, "x", 1, 61000, "v", 1), 2);
  assert_int_equal(weir_window_store_put(fx->ws, "x", 1, 61001, "v", 1), 0);
}

static void test_windows_after_reopen_found_in_rocksdb(void **state) {
  fx_t *fx = *state;
  char out[256], err[256];
  wput(fx, "a", 600000, "far"); /* segment 10 */
  commit(fx);
  weir_window_store_free(fx->ws);
  weir_kv_store_free(fx->kv);
  fx->kv = weir_kv_store_new(fx->t.db, "w", 0, &fx->t.budget);
  fx->ws = weir_window_store_new(fx->kv, WEIR_STORE_WINDOW, SIZE, RETENTION);
  weir_window_store_advance(fx->ws, 500000); /* below the row: found by RocksDB's last key */
  render(weir_window_store_fetch(fx->ws, "a", 1, 0, INT64_MAX, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@600000/610000=far ");
}

static void test_restore_skips_rows_past_retention(void **state) {
  fx_t *fx = *state;
  unsigned char key[8 + 4 + 1 + 8];
  weir_wkey_put_time(key, 0);
  memcpy(key + 8, "\0\0\0\1a", 5);
  weir_wkey_put_time(key + 13, 1000);
  assert_true(weir_window_store_restore_keep(fx->ws, key, sizeof key));
  weir_wkey_put_time(key, 5);
  weir_wkey_put_time(key + 13, 300000); /* stream time >= 300000 now */
  assert_true(weir_window_store_restore_keep(fx->ws, key, sizeof key));
  weir_wkey_put_time(key, 0);
  weir_wkey_put_time(key + 13, 1000); /* ended at 11000 < 300000 - retention */
  assert_false(weir_window_store_restore_keep(fx->ws, key, sizeof key));
  weir_wkey_put_time(key + 13, 300000 - RETENTION - SIZE); /* ends exactly at the limit */
  assert_true(weir_window_store_restore_keep(fx->ws, key, sizeof key));
  /* A bookkeeping row (the window operator's, at INT64_MAX / 2) is kept and
   * moves no time: before the fix it expired everything restored after it. */
  weir_wkey_put_time(key, weir_window_store_segment(fx->ws, INT64_MAX / 2));
  weir_wkey_put_time(key + 13, INT64_MAX / 2);
  assert_true(weir_window_store_restore_keep(fx->ws, key, sizeof key));
  assert_int_equal(weir_window_store_time(fx->ws), 300000);
}

static void sput(fx_t *fx, const char *key, int64_t s, int64_t e, const char *v) {
  assert_int_equal(weir_session_store_put(fx->ws, key, strlen(key), s, e, v, v ? strlen(v) : 0), 0);
}

static void test_session_find_overlapping_by_start(void **state) {
  fx_t *fx = *state;
  char out[1024], err[256];
  sput(fx, "a", 100, 150, "2");
  sput(fx, "a", 0, 10, "1");
  sput(fx, "b", 5, 20, "x");
  commit(fx);
  sput(fx, "a", 200000, 200000, "3"); /* another segment, in the cache */
  render(weir_session_store_find(fx->ws, "a", 1, 5, 120, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@0/10=1 a@100/150=2 ");
  render(weir_session_store_find(fx->ws, "a", 1, 11, 99, err, sizeof err), out, sizeof out);
  assert_string_equal(out, ""); /* the gap between them */
  render(weir_session_store_find(fx->ws, "a", 1, 150, INT64_MAX, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@100/150=2 a@200000/200000=3 ");
  sput(fx, "a", 100, 150, NULL); /* remove */
  render(weir_session_store_find(fx->ws, "a", 1, 0, INT64_MAX, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@0/10=1 a@200000/200000=3 ");
  assert_int_equal(weir_session_store_put(fx->ws, "a", 1, 5, 4, "v", 1), -1);
}

static void test_session_expiry_by_end(void **state) {
  fx_t *fx = *state;
  char out[256], err[256];
  sput(fx, "a", 0, 59999, "old"); /* segment 0 by its end */
  sput(fx, "a", 10, 60000, "new");
  commit(fx);
  weir_window_store_advance(fx->ws, 60000 + RETENTION + 1);
  assert_int_equal(commit(fx), 1);
  render(weir_session_store_find(fx->ws, "a", 1, 0, INT64_MAX, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "");
  assert_int_equal(db_rows(fx), 1); /* segment 1's row stays until its segment goes */
}

/* Write window (key "a", start) into RocksDB behind the store's back. */
static void db_put_window(fx_t *fx, int64_t start, const char *value) {
  unsigned char key[8 + 4 + 1 + 8];
  weir_wkey_put_time(key, weir_window_store_segment(fx->ws, start));
  memcpy(key + 8, "\0\0\0\1a", 5);
  weir_wkey_put_time(key + 13, start);
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "w", 0, key, sizeof key, value, strlen(value));
  assert_int_equal(weir_state_batch_write(fx->t.db, b, fx->t.err, sizeof fx->t.err), 0);
  weir_state_batch_free(b);
}

static void fetch_one(fx_t *fx, int64_t start, char *out, size_t size) {
  char err[256];
  render(weir_window_store_fetch(fx->ws, "a", 1, start, start, err, sizeof err), out, size);
}

/* A lookup of one window reads RocksDB only when RocksDB may hold it: a
 * window flushed, then evicted, is found there; one starting after every
 * start ever flushed is not looked for (the row written behind the
 * store's back proves it); after a reopen, the bound is the end of
 * RocksDB's last segment. */
static void test_new_windows_skip_rocksdb_only_past_what_it_holds(void **state) {
  fx_t *fx = *state;
  char out[256];
  fx->t.budget.max = 1;                  /* every clean entry is evicted once written */
  fetch_one(fx, 10000, out, sizeof out); /* RocksDB read once while empty */
  assert_string_equal(out, "");
  /* 1: over the budget, commit soon */
  assert_int_equal(weir_window_store_put(fx->ws, "a", 1, 10000, "1", 1), 1);
  commit(fx);
  assert_int_equal(weir_kv_store_dirty_count(fx->kv), 0);
  fetch_one(fx, 10000, out, sizeof out);
  assert_string_equal(out, "a@10000/20000=1 "); /* evicted: from RocksDB */
  db_put_window(fx, 20000, "hidden");
  fetch_one(fx, 20000, out, sizeof out);
  assert_string_equal(out, ""); /* after every flushed start: not looked for */
  weir_window_store_free(fx->ws);
  weir_kv_store_free(fx->kv);
  fx->kv = weir_kv_store_new(fx->t.db, "w", 0, &fx->t.budget);
  fx->ws = weir_window_store_new(fx->kv, WEIR_STORE_WINDOW, SIZE, RETENTION);
  fetch_one(fx, 20000, out, sizeof out);
  assert_string_equal(out, "a@20000/30000=hidden "); /* segment 0 may hold it */
}

/* A fetch over a time range reads the cache alone when every window it
 * asks for starts after every start flushed (a stream-stream join's fetch
 * around the record in hand), RocksDB as soon as one may not: the row
 * written behind the store's back shows which was read. After a reopen the
 * bound is again the end of RocksDB's last segment. */
static void test_range_fetch_skips_rocksdb_only_past_what_it_holds(void **state) {
  fx_t *fx = *state;
  char out[256], err[256];
  fx->t.budget.max = 1;                  /* every clean entry is evicted once written */
  fetch_one(fx, 10000, out, sizeof out); /* RocksDB's last segment read once while empty */
  assert_int_equal(weir_window_store_put(fx->ws, "a", 1, 10000, "1", 1), 1);
  commit(fx);
  assert_int_equal(weir_window_store_put(fx->ws, "a", 1, 30000, "3", 1), 1);
  db_put_window(fx, 20000, "hidden");
  render(weir_window_store_fetch(fx->ws, "a", 1, 10001, 40000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@30000/40000=3 "); /* the cache alone */
  render(weir_window_store_fetch_all(fx->ws, 10001, 40000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@30000/40000=3 ");
  render(weir_window_store_fetch(fx->ws, "a", 1, 10000, 40000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@10000/20000=1 a@20000/30000=hidden a@30000/40000=3 ");
  render(weir_window_store_fetch_all(fx->ws, 10000, 40000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@10000/20000=1 a@20000/30000=hidden a@30000/40000=3 ");
  weir_window_store_free(fx->ws);
  weir_kv_store_free(fx->kv);
  fx->kv = weir_kv_store_new(fx->t.db, "w", 0, &fx->t.budget);
  fx->ws = weir_window_store_new(fx->kv, WEIR_STORE_WINDOW, SIZE, RETENTION);
  render(weir_window_store_fetch(fx->ws, "a", 1, 10001, 40000, err, sizeof err), out, sizeof out);
  assert_string_equal(out, "a@20000/30000=hidden "); /* segment 0 may hold it */
}

#define TW(f) cmocka_unit_test_setup_teardown(f, setup_window, teardown)
#define TS(f) cmocka_unit_test_setup_teardown(f, setup_session, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      TW(test_fetch_in_start_order_over_cache_and_rocksdb),
      TW(test_expiry_drops_whole_segments_with_one_range_delete),
      TW(test_windows_after_reopen_found_in_rocksdb),
      TW(test_restore_skips_rows_past_retention),
      TW(test_new_windows_skip_rocksdb_only_past_what_it_holds),
      TW(test_range_fetch_skips_rocksdb_only_past_what_it_holds),
      TS(test_session_find_overlapping_by_start),
      TS(test_session_expiry_by_end),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
