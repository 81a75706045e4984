/* kv_store: the per-task write cache — hits, misses, tombstones, flush,
 * the process-wide byte budget and eviction; kv_iter: ranges over the cache
 * laid on RocksDB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "state/kv_iter.h"
#include "state/kv_store.h"
#include "support/state_fixture.h"
#include "util/fs.h"

#define OVH WEIR_KV_ENTRY_OVERHEAD

/* The state db each test runs on: fx->db, fx->err, fx->budget (1 MiB). */
typedef weir_test_db_t fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof *fx);
  *state = fx;
  return weir_test_db_open(fx, "weir-kv");
}

static int teardown(void **state) {
  weir_test_db_close(*state);
  free(*state);
  return 0;
}

static long long used(fx_t *fx) {
  return atomic_load(&fx->budget.used);
}

/* Writes rows straight into RocksDB, behind the cache's back. */
static void db_put(fx_t *fx, const char *k, const char *v) {
  weir_state_batch_t *b = weir_state_batch_new();
  if (v)
    weir_state_batch_put(b, "s", 3, k, strlen(k), v, strlen(v));
  else
    weir_state_batch_delete(b, "s", 3, k, strlen(k));
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_state_batch_free(b);
}

static int put(weir_kv_store_t *s, const char *k, const char *v) {
  return weir_kv_store_put(s, k, strlen(k), v, v ? strlen(v) : 0);
}

/* Asserts what get returns; expect NULL = absent. */
static void expect(weir_kv_store_t *s, const char *k, const char *want) {
  char err[256];
  const void *v = NULL;
  size_t n = 0;
  int rc = weir_kv_store_get(s, k, strlen(k), &v, &n, err, sizeof err);
  if (!want) {
    if (rc != 0)
      fail_msg("get(%s) = %d, want absent", k, rc);
    return;
  }
  if (rc != 1)
    fail_msg("get(%s) = %d, want \"%s\"", k, rc, want);
  assert_int_equal(n, strlen(want));
  assert_memory_equal(v, want, n);
}

/* A flush callback recording "key=value" (or "key=-" for a delete). */
typedef struct {
  char log[4096];
  int calls;
  int fail_at; /* 1-based call that returns 7; 0 = never */
} rec_t;

static int record(void *opaque, const void *key, size_t key_len, const void *value,
                  size_t value_len) {
  rec_t *r = opaque;
  size_t len = strlen(r->log);
  if (++r->calls == r->fail_at)
    return 7;
  if (value)
    snprintf(r->log + len, sizeof r->log - len, "%s%.*s=%.*s", len ? " " : "", (int)key_len,
             (const char *)key, (int)value_len, (const char *)value);
  else
    snprintf(r->log + len, sizeof r->log - len, "%s%.*s=-", len ? " " : "", (int)key_len,
             (const char *)key);
  return 0;
}

/* flush + write + batch_written, the commit sequence. */
static void commit(fx_t *fx, weir_kv_store_t *s, rec_t *r) {
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, r ? record : NULL, r), 0);
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  weir_state_batch_free(b);
}

static void test_miss_reads_rocksdb_and_caches(void **state) {
  fx_t *fx = *state;
  db_put(fx, "k", "v");
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  assert_string_equal(weir_kv_store_name(s), "s");
  assert_int_equal(weir_kv_store_partition(s), 3);
  assert_int_equal(weir_kv_store_cached_bytes(s), 0);
  expect(s, "k", "v");
  assert_int_equal(weir_kv_store_cached_bytes(s), 1 + 1 + OVH);
  expect(s, "zz", NULL); /* "absent" is cached too, and counted */
  assert_int_equal(weir_kv_store_cached_bytes(s), (1 + 1 + OVH) + (2 + 0 + OVH));
  assert_int_equal(used(fx), (1 + 1 + OVH) + (2 + 0 + OVH));
  /* Change RocksDB underneath: the cache answers, so both reads were hits. */
  db_put(fx, "k", "changed");
  db_put(fx, "zz", "now here");
  expect(s, "k", "v");
  expect(s, "zz", NULL);
  assert_int_equal(weir_kv_store_dirty_count(s), 0);
  weir_kv_store_free(s);
  assert_int_equal(used(fx), 0);
}

static void test_put_then_get(void **state) {
  fx_t *fx = *state;
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  assert_int_equal(put(s, "a", "1"), 0);
  expect(s, "a", "1");
  assert_int_equal(put(s, "a", "22"), 0); /* grows */
  expect(s, "a", "22");
  assert_int_equal(put(s, "a", "3"), 0); /* shrinks in place */
  expect(s, "a", "3");
  assert_int_equal(weir_kv_store_put(s, "", 0, "", 0), 0);
  expect(s, "", ""); /* empty key, empty but present value */
  assert_int_equal(weir_kv_store_dirty_count(s), 2);
  /* Nothing reached RocksDB. */
  void *v = NULL;
  size_t n;
  assert_int_equal(weir_state_db_get(fx->db, "s", 3, "a", 1, &v, &n, fx->err, sizeof fx->err), 0);
  weir_kv_store_free(s);
  assert_int_equal(used(fx), 0);
}

static void test_cached_values_are_aligned(void **state) {
  fx_t *fx = *state;
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  int64_t c = 41;
  const void *v;
  size_t n;
  for (const char *k = "abcdefghij"; *k; k++)
    weir_kv_store_put(s, k, strlen(k), &c, sizeof c);
  for (const char *k = "abcdefghij"; *k; k++) {
    assert_int_equal(weir_kv_store_get(s, k, strlen(k), &v, &n, fx->err, sizeof fx->err), 1);
    assert_int_equal((uintptr_t)v % 8, 0);
    assert_int_equal(*(const int64_t *)v, 41);
  }
  weir_kv_store_free(s);
}

static void test_tombstone_hides_rocksdb_value(void **state) {
  fx_t *fx = *state;
  rec_t r = {0};
  db_put(fx, "k", "old");
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  assert_int_equal(put(s, "k", NULL), 0);
  expect(s, "k", NULL);
  assert_int_equal(weir_kv_store_dirty_count(s), 1);
  commit(fx, s, &r);
  assert_string_equal(r.log, "k=-");
  expect(s, "k", NULL);
  void *v = NULL;
  size_t n;
  assert_int_equal(weir_state_db_get(fx->db, "s", 3, "k", 1, &v, &n, fx->err, sizeof fx->err), 0);
  /* A put after a cached read and a delete of a cached value work alike. */
  db_put(fx, "j", "old");
  expect(s, "j", "old");
  assert_int_equal(put(s, "j", NULL), 0);
  expect(s, "j", NULL);
  weir_kv_store_free(s);
}

static void test_flush_hands_latest_value_once_per_key(void **state) {
  fx_t *fx = *state;
  rec_t r = {0};
  db_put(fx, "clean", "c");
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  expect(s, "clean", "c"); /* a cached read is not dirty */
  put(s, "a", "1");
  put(s, "b", "2");
  put(s, "a", "3");
  put(s, "d", NULL);
  put(s, "e", "5");
  put(s, "e", NULL);
  put(s, "a", "4");
  assert_int_equal(weir_kv_store_dirty_count(s), 4);
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "a=4 b=2 d=- e=-");
  assert_int_equal(r.calls, 4);
  assert_int_equal(weir_state_batch_count(b), 4);
  assert_int_equal(weir_kv_store_dirty_count(s), 0);
  /* Flushing again hands nothing more. */
  memset(&r, 0, sizeof r);
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_int_equal(r.calls, 0);
  assert_int_equal(weir_state_batch_count(b), 4);
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  weir_state_batch_free(b);
  void *v = NULL;
  size_t n = 0;
  assert_int_equal(weir_state_db_get(fx->db, "s", 3, "a", 1, &v, &n, fx->err, sizeof fx->err), 1);
  assert_int_equal(n, 1);
  assert_memory_equal(v, "4", 1);
  free(v);
  weir_kv_store_free(s);
}

static void test_flush_stops_on_nonzero(void **state) {
  fx_t *fx = *state;
  rec_t r = {.fail_at = 2};
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  put(s, "x", "1");
  put(s, "y", "2");
  put(s, "z", "3");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 7);
  assert_string_equal(r.log, "x=1");
  assert_int_equal(weir_state_batch_count(b), 1);
  /* x, handed over before the failure, is dirty again with y and z. */
  assert_int_equal(weir_kv_store_dirty_count(s), 3);
  put(s, "y", "22"); /* still dirty: updated in place, not listed twice */
  put(s, "x", "11");
  assert_int_equal(weir_kv_store_dirty_count(s), 3);
  memset(&r, 0, sizeof r);
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "x=11 y=22 z=3");
  assert_int_equal(weir_state_batch_count(b), 4);
  assert_int_equal(weir_kv_store_dirty_count(s), 0);
  weir_state_batch_free(b);
  weir_kv_store_free(s);
}

/* A flush that fails half-way (its changelog produce failed), a commit given
 * up with its batch, then a full commit: what the failed flush handed over
 * is in the written batch, not cleaned unwritten and evicted (max = 0
 * evicts every clean entry) — else the read gets RocksDB's old value. */
static void test_failed_flush_entries_reach_a_written_batch(void **state) {
  fx_t *fx = *state;
  rec_t r = {.fail_at = 2};
  fx->budget.max = 0;
  db_put(fx, "x", "old");
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  put(s, "x", "new");
  put(s, "y", "2");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 7);
  assert_int_equal(weir_kv_store_dirty_count(s), 2);
  weir_state_batch_clear(b); /* the caller gives up on this batch */
  memset(&r, 0, sizeof r);
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "x=new y=2");
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  weir_state_batch_free(b);
  assert_int_equal(weir_kv_store_cached_bytes(s), 0); /* all evicted */
  expect(s, "x", "new");
  expect(s, "y", "2");
  weir_kv_store_free(s);
}

/* A commit skipped after its flush (a drain timeout, a failed offset
 * commit) writes nothing; the next commit flushes into the same batch and
 * writes it whole: no update of either round is lost, and a key written in
 * both rounds ends with the later value. */
static void test_skipped_commit_then_full_commit(void **state) {
  fx_t *fx = *state;
  rec_t r = {0};
  fx->budget.max = 0;
  db_put(fx, "a", "0");
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  put(s, "a", "1");
  put(s, "b", "1");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0); /* then skipped */
  expect(s, "a", "1");
  put(s, "a", "2");
  put(s, "c", "2");
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "a=1 b=1 a=2 c=2");
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  weir_state_batch_free(b);
  assert_int_equal(weir_kv_store_cached_bytes(s), 0);
  expect(s, "a", "2");
  expect(s, "b", "1");
  expect(s, "c", "2");
  weir_kv_store_free(s);
}

/* max = 0: every put is over budget and eviction takes every clean entry,
 * yet flushed entries must stay readable until their batch is written. */
static void test_flushed_entries_readable_until_batch_written(void **state) {
  fx_t *fx = *state;
  rec_t r = {0};
  fx->budget.max = 0;
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  assert_int_equal(put(s, "a", "1"), 1);
  assert_int_equal(put(s, "b", "2"), 1);
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  expect(s, "a", "1"); /* RocksDB has nothing yet */
  expect(s, "b", "2");
  assert_int_equal(put(s, "b", "3"), 1); /* dirty again while its old value is pending */
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  /* a was evicted, b is dirty and stays. */
  assert_int_equal(weir_kv_store_cached_bytes(s), 1 + 1 + OVH);
  assert_int_equal(used(fx), 1 + 1 + OVH);
  assert_int_equal(weir_kv_store_dirty_count(s), 1);
  expect(s, "a", "1"); /* from RocksDB; not cached: no room */
  expect(s, "b", "3");
  assert_int_equal(weir_kv_store_cached_bytes(s), 1 + 1 + OVH);
  weir_state_batch_clear(b);
  memset(&r, 0, sizeof r);
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "b=3");
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  assert_int_equal(weir_kv_store_cached_bytes(s), 0);
  assert_int_equal(used(fx), 0);
  expect(s, "b", "3");
  weir_state_batch_free(b);
  weir_kv_store_free(s);
}

static void test_budget_is_shared_and_returned(void **state) {
  fx_t *fx = *state;
  fx->budget.max = 3 * (2 + 10 + OVH) - 1;
  weir_kv_store_t *s1 = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  weir_kv_store_t *s2 = weir_kv_store_new(fx->db, "t", 3, &fx->budget);
  assert_int_equal(put(s1, "k1", "0123456789"), 0);
  assert_int_equal(used(fx), 2 + 10 + OVH);
  assert_int_equal(put(s2, "k2", "0123456789"), 0);
  assert_int_equal(used(fx), 2 * (2 + 10 + OVH));
  assert_int_equal(put(s1, "k3", "0123456789"), 1); /* the third goes over */
  assert_int_equal(used(fx), 3 * (2 + 10 + OVH));
  assert_int_equal(weir_kv_store_cached_bytes(s1), 2 * (2 + 10 + OVH));
  assert_int_equal(weir_kv_store_cached_bytes(s2), 2 + 10 + OVH);
  /* Growing a value counts the growth (at least by half); shrinking keeps it. */
  assert_int_equal(put(s2, "k2", "0123456789abcdefghij"), 1);
  assert_int_equal(weir_kv_store_cached_bytes(s2), 2 + 20 + OVH);
  assert_int_equal(put(s2, "k2", "x"), 1);
  assert_int_equal(weir_kv_store_cached_bytes(s2), 2 + 20 + OVH);
  assert_int_equal(put(s2, "k2", "0123456789abcdefghijk"), 1);
  assert_int_equal(weir_kv_store_cached_bytes(s2), 2 + 30 + OVH);
  weir_kv_store_free(s1); /* drops its dirty entries */
  assert_int_equal(used(fx), 2 + 30 + OVH);
  weir_kv_store_free(s2);
  assert_int_equal(used(fx), 0);
}

static void test_zero_budget_flags_every_put(void **state) {
  fx_t *fx = *state;
  fx->budget.max = 0;
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  assert_int_equal(put(s, "a", "1"), 1);
  assert_int_equal(put(s, "a", NULL), 1);
  weir_kv_store_free(s);
  assert_int_equal(used(fx), 0);
}

static void key_of(char *out, int i) {
  snprintf(out, 8, "key-%02d", i);
}

static void test_eviction_keeps_values_readable(void **state) {
  fx_t *fx = *state;
  char k[16], v[32];
  enum { ENTRY = 6 + 8 + OVH };
  fx->budget.max = 1000;
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  int over = 0;
  for (int i = 0; i < 50; i++) {
    key_of(k, i);
    snprintf(v, sizeof v, "value-%02d", i);
    over += put(s, k, v);
  }
  assert_int_equal(over, 50 - 1000 / ENTRY);
  commit(fx, s, NULL);
  /* All were put since the last sweep, so the second chance is not
   * enough: every clean entry goes. */
  assert_int_equal(weir_kv_store_cached_bytes(s), 0);
  assert_int_equal(used(fx), 0);
  for (int i = 0; i < 50; i++) {
    key_of(k, i);
    snprintf(v, sizeof v, "value-%02d", i);
    expect(s, k, v);
  }
  /* Reads cache while there is room: 11 entries of 86 bytes fit in 1000. */
  assert_int_equal(weir_kv_store_cached_bytes(s), (1000 / ENTRY) * ENTRY);
  weir_kv_store_free(s);
  assert_int_equal(used(fx), 0);
}

/* An entry hit since it was cached survives one sweep; the others go. */
static void test_eviction_second_chance(void **state) {
  fx_t *fx = *state;
  char k[16];
  enum { ENTRY = 6 + 1 + OVH };
  for (int i = 0; i < 10; i++) {
    key_of(k, i);
    db_put(fx, k, "o");
  }
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  for (int i = 0; i < 10; i++) {
    key_of(k, i);
    expect(s, k, "o");
  }
  for (int i = 0; i < 3; i++) { /* hits */
    key_of(k, i);
    expect(s, k, "o");
  }
  assert_int_equal(weir_kv_store_cached_bytes(s), 10 * ENTRY);
  fx->budget.max = 5 * ENTRY;
  weir_kv_store_batch_written(s);
  assert_int_equal(weir_kv_store_cached_bytes(s), 3 * ENTRY);
  /* Tell hits from misses by changing RocksDB underneath. */
  for (int i = 0; i < 10; i++) {
    key_of(k, i);
    db_put(fx, k, "n");
  }
  for (int i = 0; i < 10; i++) {
    key_of(k, i);
    expect(s, k, i < 3 ? "o" : "n");
  }
  weir_kv_store_free(s);
}

/* backend = memory: RocksDB is neither read (a row put there behind the
 * store's back stays unseen) nor written (the commit's batch stays empty),
 * the changelog callback gets every change, written entries stay readable
 * and range-readable, a written delete drops its entry, and the budget
 * never counts it. */
static void test_in_memory_store_keeps_rows_out_of_rocksdb(void **state) {
  fx_t *fx = *state;
  rec_t r = {0}, seen = {0};
  db_put(fx, "x", "rocks");
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  weir_kv_store_keep_in_memory(s);
  assert_true(weir_kv_store_in_memory(s));
  expect(s, "x", NULL);
  put(s, "b", "2");
  put(s, "a", "1");
  put(s, "c", "3");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "a=1 b=2 c=3");
  assert_int_equal(weir_state_batch_count(b), 0);
  weir_kv_store_batch_written(s);
  assert_int_equal(used(fx), 0);
  assert_true(weir_kv_store_cached_bytes(s) > 0);
  expect(s, "a", "1");
  expect(s, "c", "3");
  assert_int_equal(weir_kv_store_unwritten_from(s, "b", 1, record, &seen), 0);
  assert_string_equal(seen.log, "b=2 c=3");
  put(s, "b", NULL);
  put(s, "a", "one");
  memset(&r, 0, sizeof r);
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_string_equal(r.log, "a=one b=-");
  assert_int_equal(weir_state_batch_count(b), 0);
  weir_kv_store_batch_written(s);
  expect(s, "b", NULL);
  memset(&seen, 0, sizeof seen);
  assert_int_equal(weir_kv_store_unwritten_from(s, NULL, 0, record, &seen), 0);
  assert_string_equal(seen.log, "a=one c=3"); /* the delete left no entry */
  weir_state_batch_free(b);
  weir_kv_store_free(s);
  /* RocksDB still has only the row put behind the store's back. */
  weir_kv_store_t *rocks = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  expect(rocks, "x", "rocks");
  expect(rocks, "a", NULL);
  weir_kv_store_free(rocks);
}

/* The restore fills an in-memory store from its changelog: rows in clean
 * (nothing to flush again), a later record for a key replacing the earlier,
 * a tombstone dropping it; range reads see the rows restored. */
static void test_in_memory_store_restore(void **state) {
  fx_t *fx = *state;
  rec_t r = {0}, seen = {0};
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  weir_kv_store_keep_in_memory(s);
  assert_int_equal(weir_kv_store_restore(s, "a", 1, "1", 1), 0);
  assert_int_equal(weir_kv_store_restore(s, "b", 1, "2", 1), 0);
  assert_int_equal(weir_kv_store_restore(s, "a", 1, "longer", 6), 0);
  assert_int_equal(weir_kv_store_restore(s, "c", 1, "3", 1), 0);
  assert_int_equal(weir_kv_store_restore(s, "b", 1, NULL, 0), 0);
  assert_int_equal(weir_kv_store_dirty_count(s), 0);
  expect(s, "a", "longer");
  expect(s, "b", NULL);
  assert_int_equal(weir_kv_store_unwritten_from(s, NULL, 0, record, &seen), 0);
  assert_string_equal(seen.log, "a=longer c=3");
  /* Once indexed, a restored row joins the index too. */
  assert_int_equal(weir_kv_store_restore(s, "aa", 2, "4", 1), 0);
  memset(&seen, 0, sizeof seen);
  assert_int_equal(weir_kv_store_unwritten_from(s, NULL, 0, record, &seen), 0);
  assert_string_equal(seen.log, "a=longer aa=4 c=3");
  commit(fx, s, &r);
  assert_int_equal(r.calls, 0); /* restored rows are not produced again */
  weir_kv_store_free(s);
}

/* A value that outgrows its entry moves it while it sits in the dirty and
 * pending lists (ASan checks nothing dangles). */
static void test_growing_value_moves_listed_entry(void **state) {
  fx_t *fx = *state;
  rec_t r = {0};
  char big[200];
  memset(big, 'b', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  put(s, "k", "1");
  put(s, "other", "2");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, NULL, NULL), 0);
  put(s, "k", big); /* FLUSHED -> DIRTY, and reallocated */
  expect(s, "k", big);
  assert_int_equal(weir_kv_store_flush(s, b, record, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(strlen(r.log), 2 + strlen(big));
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_kv_store_batch_written(s);
  weir_state_batch_free(b);
  expect(s, "k", big);
  weir_kv_store_free(s);
}

/* Enough keys to grow the table several times, then evict and shrink it. */
static void test_many_keys(void **state) {
  fx_t *fx = *state;
  char k[16], v[16];
  enum { N = 20000 };
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  for (int i = 0; i < N; i++) {
    snprintf(k, sizeof k, "k%d", i);
    snprintf(v, sizeof v, "%d", i * 7);
    assert_true(put(s, k, v) >= 0);
  }
  assert_int_equal(weir_kv_store_dirty_count(s), N);
  for (int i = 0; i < N; i += 3) {
    snprintf(k, sizeof k, "k%d", i);
    put(s, k, NULL);
  }
  commit(fx, s, NULL);
  fx->budget.max = 0;
  weir_kv_store_batch_written(s); /* evicts everything clean */
  assert_int_equal(weir_kv_store_cached_bytes(s), 0);
  fx->budget.max = 1 << 20;
  for (int i = 0; i < N; i++) {
    snprintf(k, sizeof k, "k%d", i);
    snprintf(v, sizeof v, "%d", i * 7);
    expect(s, k, i % 3 ? v : NULL);
  }
  weir_kv_store_free(s);
  assert_int_equal(used(fx), 0);
}

static void test_ranges_read_rocksdb(void **state) {
  fx_t *fx = *state;
  const void *k, *v;
  size_t kn, vn;
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  weir_kv_store_t *other = weir_kv_store_new(fx->db, "s", 4, &fx->budget);
  put(s, "b", "2");
  put(s, "a", "1");
  put(s, "c", "3");
  put(other, "a", "x");
  commit(fx, s, NULL);
  commit(fx, other, NULL);
  weir_kv_iter_t *it = weir_kv_iter_range(s, "a", 1, "c", 1);
  assert_int_equal(weir_kv_iter_next(it, &k, &kn, &v, &vn), 1);
  assert_memory_equal(k, "a", 1);
  assert_memory_equal(v, "1", 1);
  assert_int_equal(weir_kv_iter_next(it, &k, &kn, &v, &vn), 1);
  assert_memory_equal(k, "b", 1);
  assert_int_equal(weir_kv_iter_next(it, &k, &kn, &v, &vn), 0);
  weir_kv_iter_close(it);
  it = weir_kv_iter_prefix(s, "c", 1);
  assert_int_equal(weir_kv_iter_next(it, &k, &kn, &v, &vn), 1);
  assert_int_equal(kn, 1);
  assert_memory_equal(v, "3", 1);
  assert_int_equal(weir_kv_iter_next(it, &k, &kn, &v, &vn), 0);
  weir_kv_iter_close(it);
  weir_kv_store_free(s);
  weir_kv_store_free(other);
}

/* Everything an iterator yields as "k=v k=v ...". */
static void drain(weir_kv_iter_t *it, char *out, size_t size) {
  const void *k, *v;
  size_t kn, vn, len = 0;
  int rc;
  out[0] = '\0';
  while ((rc = weir_kv_iter_next(it, &k, &kn, &v, &vn)) == 1)
    len += (size_t)snprintf(out + len, size - len, "%s%.*s=%.*s", len ? " " : "", (int)kn,
                            (const char *)k, (int)vn, (const char *)v);
  assert_int_equal(rc, 0);
  weir_kv_iter_close(it);
}

/* The cache's unwritten entries (dirty, or flushed into a batch not yet
 * written) override RocksDB's rows, deletes hide them, new keys slot in in
 * order — and RocksDB is not written by iterating. */
static void test_ranges_merge_the_cache(void **state) {
  fx_t *fx = *state;
  char got[512];
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  db_put(fx, "a", "1");
  db_put(fx, "b", "2");
  db_put(fx, "c", "3");
  db_put(fx, "d", "4");
  put(s, "aa", "flushed");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, NULL, NULL), 0); /* in a batch, not written */
  put(s, "b", "new");
  put(s, "c", NULL);
  put(s, "e", "5");
  put(s, "", "empty");
  expect(s, "a", "1"); /* cached clean: RocksDB's value, shown once */
  drain(weir_kv_iter_range(s, NULL, 0, NULL, 0), got, sizeof got);
  assert_string_equal(got, "=empty a=1 aa=flushed b=new d=4 e=5");
  drain(weir_kv_iter_range(s, "aa", 2, "e", 1), got, sizeof got);
  assert_string_equal(got, "aa=flushed b=new d=4");
  drain(weir_kv_iter_prefix(s, "a", 1), got, sizeof got);
  assert_string_equal(got, "a=1 aa=flushed");
  drain(weir_kv_iter_prefix(s, "c", 1), got, sizeof got);
  assert_string_equal(got, "");
  /* RocksDB still holds only what was there: nothing was written early. */
  void *raw = NULL;
  size_t n = 0;
  assert_int_equal(weir_state_db_get(fx->db, "s", 3, "b", 1, &raw, &n, fx->err, sizeof fx->err), 1);
  assert_memory_equal(raw, "2", 1);
  free(raw);
  assert_int_equal(weir_state_db_get(fx->db, "s", 3, "e", 1, &raw, &n, fx->err, sizeof fx->err), 0);
  assert_int_equal(weir_state_db_get(fx->db, "s", 3, "aa", 2, &raw, &n, fx->err, sizeof fx->err),
                   0);
  weir_state_batch_free(b);
  weir_kv_store_free(s);
}

/* An entry flushed, then written again before its batch is in RocksDB,
 * shows its newest value once; a put while an iterator is open is not
 * seen by it (its cache part is a copy). */
static void test_range_sees_latest_once(void **state) {
  fx_t *fx = *state;
  char got[512];
  weir_kv_store_t *s = weir_kv_store_new(fx->db, "s", 3, &fx->budget);
  db_put(fx, "k", "0");
  put(s, "k", "1");
  weir_state_batch_t *b = weir_state_batch_new();
  assert_int_equal(weir_kv_store_flush(s, b, NULL, NULL), 0);
  put(s, "k", "2");
  weir_kv_iter_t *it = weir_kv_iter_range(s, NULL, 0, NULL, 0);
  put(s, "l", "3");
  drain(it, got, sizeof got);
  assert_string_equal(got, "k=2");
  drain(weir_kv_iter_range(s, NULL, 0, NULL, 0), got, sizeof got);
  assert_string_equal(got, "k=2 l=3");
  weir_state_batch_free(b);
  weir_kv_store_free(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_miss_reads_rocksdb_and_caches),
      T(test_put_then_get),
      T(test_cached_values_are_aligned),
      T(test_tombstone_hides_rocksdb_value),
      T(test_flush_hands_latest_value_once_per_key),
      T(test_flush_stops_on_nonzero),
      T(test_failed_flush_entries_reach_a_written_batch),
      T(test_skipped_commit_then_full_commit),
      T(test_flushed_entries_readable_until_batch_written),
      T(test_budget_is_shared_and_returned),
      T(test_zero_budget_flags_every_put),
      T(test_eviction_keeps_values_readable),
      T(test_eviction_second_chance),
      T(test_in_memory_store_keeps_rows_out_of_rocksdb),
      T(test_in_memory_store_restore),
      T(test_growing_value_moves_listed_entry),
      T(test_many_keys),
      T(test_ranges_read_rocksdb),
      T(test_ranges_merge_the_cache),
      T(test_range_sees_latest_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
