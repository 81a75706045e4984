/* state_db: the one RocksDB of a process — rows, checkpoints, drop, bounded
 * iteration, the key layout on disk, the lock, and wiping a damaged DB. */
#include <dirent.h>
#include <rocksdb/c.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/state_db.h"
#include "support/tmpdir.h"
#include "util/fs.h"

typedef struct {
  char dir[512]; /* a fresh temporary state.dir */
  char err[512];
  weir_state_db_t *db;
} fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof *fx);
  if (!weir_test_tmpdir(fx->dir, sizeof fx->dir, "weir-state"))
    return -1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  weir_state_db_close(fx->db);
  weir_rm_rf(fx->dir);
  free(fx);
  return 0;
}

static weir_state_db_t *open_db(fx_t *fx, int *wiped) {
  weir_state_db_t *db = weir_state_db_open(fx->dir, "app", 16, wiped, fx->err, sizeof fx->err);
  if (!db)
    fail_msg("open failed: %s", fx->err);
  return db;
}

static void put(weir_state_db_t *db, const char *store, int32_t part, const char *k,
                const char *v) {
  char err[256];
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, store, part, k, strlen(k), v, strlen(v));
  assert_int_equal(weir_state_batch_write(db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
}

/* Asserts the row's value; expect NULL = absent. */
static void expect_row(weir_state_db_t *db, const char *store, int32_t part, const char *k,
                       const char *expect) {
  char err[256];
  void *v = NULL;
  size_t n = 0;
  int rc = weir_state_db_get(db, store, part, k, strlen(k), &v, &n, err, sizeof err);
  if (!expect) {
    assert_int_equal(rc, 0);
    return;
  }
  assert_int_equal(rc, 1);
  assert_int_equal(n, strlen(expect));
  assert_memory_equal(v, expect, n);
  free(v);
}

static int64_t checkpoint(weir_state_db_t *db, const char *store, int32_t part) {
  char err[256];
  return weir_state_db_checkpoint(db, store, part, err, sizeof err);
}

static void test_put_get_delete(void **state) {
  fx_t *fx = *state;
  char err[256];
  fx->db = open_db(fx, NULL);
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "counts", 0, "apple", 5, "1", 1);
  weir_state_batch_put(b, "counts", 0, "pear", 4, "22", 2);
  weir_state_batch_put(b, "counts", 0, "empty", 5, NULL, 0);
  assert_int_equal(weir_state_batch_count(b), 3);
  expect_row(fx->db, "counts", 0, "apple", NULL); /* nothing before the write */
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  expect_row(fx->db, "counts", 0, "apple", "1");
  expect_row(fx->db, "counts", 0, "pear", "22");
  expect_row(fx->db, "counts", 0, "empty", ""); /* present, zero bytes */
  expect_row(fx->db, "counts", 1, "apple", NULL);
  expect_row(fx->db, "count", 0, "apple", NULL);

  weir_state_batch_clear(b);
  assert_int_equal(weir_state_batch_count(b), 0);
  weir_state_batch_delete(b, "counts", 0, "apple", 5);
  weir_state_batch_put(b, "counts", 0, "pear", 4, "333", 3);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  expect_row(fx->db, "counts", 0, "apple", NULL);
  expect_row(fx->db, "counts", 0, "pear", "333");
  weir_state_batch_free(b);
}

static void test_rows_survive_reopen(void **state) {
  fx_t *fx = *state;
  int wiped = -1;
  fx->db = open_db(fx, &wiped);
  assert_int_equal(wiped, 0);
  put(fx->db, "s", 7, "k", "v");
  weir_state_db_close(fx->db);
  fx->db = open_db(fx, &wiped);
  assert_int_equal(wiped, 0);
  expect_row(fx->db, "s", 7, "k", "v");
}

static void test_creates_nested_dirs(void **state) {
  fx_t *fx = *state;
  char sdir[128], expect[160];
  struct stat st;
  snprintf(sdir, sizeof sdir, "%s/a/b", fx->dir);
  fx->db = weir_state_db_open(sdir, "wc", 16, NULL, fx->err, sizeof fx->err);
  assert_non_null(fx->db);
  snprintf(expect, sizeof expect, "%s/wc/rocksdb", sdir);
  assert_string_equal(weir_state_db_path(fx->db), expect);
  snprintf(expect, sizeof expect, "%s/wc/.lock", sdir);
  assert_int_equal(stat(expect, &st), 0);
  snprintf(expect, sizeof expect, "%s/wc/rocksdb/CURRENT", sdir);
  assert_int_equal(stat(expect, &st), 0);
}

static void test_bad_arguments(void **state) {
  fx_t *fx = *state;
  assert_null(weir_state_db_open(fx->dir, "app", 0, NULL, fx->err, sizeof fx->err));
  assert_string_equal(fx->err, "state.memory.mb = 0 is too small: use at least 4");
  assert_null(weir_state_db_open(fx->dir, "a/b", 16, NULL, fx->err, sizeof fx->err));
  assert_string_equal(
      fx->err, "application.id 'a/b' cannot name a state directory: avoid '/', '.' and '..'");
  assert_null(weir_state_db_open(fx->dir, "..", 16, NULL, fx->err, sizeof fx->err));
  assert_null(weir_state_db_open("", "app", 16, NULL, fx->err, sizeof fx->err));
  assert_string_equal(fx->err, "state.dir is empty: set it to a writable directory");
}

static void test_checkpoint_written_atomically_with_rows(void **state) {
  fx_t *fx = *state;
  char err[256];
  fx->db = open_db(fx, NULL);
  assert_int_equal(checkpoint(fx->db, "s", 0), -1);
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "s", 0, "k", 1, "v", 1);
  weir_state_batch_checkpoint(b, "s", 0, 0x0102030405060708LL);
  assert_int_equal(weir_state_batch_count(b), 2);
  /* Not written yet: neither is visible. */
  assert_int_equal(checkpoint(fx->db, "s", 0), -1);
  expect_row(fx->db, "s", 0, "k", NULL);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  assert_int_equal(checkpoint(fx->db, "s", 0), 0x0102030405060708LL);
  expect_row(fx->db, "s", 0, "k", "v");
  assert_int_equal(checkpoint(fx->db, "s", 1), -1);
  assert_int_equal(checkpoint(fx->db, "t", 0), -1);

  weir_state_batch_clear(b);
  weir_state_batch_checkpoint(b, "s", 0, 0);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  assert_int_equal(checkpoint(fx->db, "s", 0), 0);
  weir_state_batch_free(b);
  /* A checkpoint row is not a data row. */
  expect_row(fx->db, "s", 0, "", NULL);
}

/* Reads the raw RocksDB to check the documented layout byte for byte. */
static void test_key_layout_on_disk(void **state) {
  fx_t *fx = *state;
  char *err = NULL;
  fx->db = open_db(fx, NULL);
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "wc", 258, "k", 1, "v", 1);
  weir_state_batch_checkpoint(b, "wc", 258, 42);
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_state_batch_free(b);
  char path[160];
  snprintf(path, sizeof path, "%s", weir_state_db_path(fx->db));
  weir_state_db_close(fx->db);
  fx->db = NULL;

  rocksdb_options_t *o = rocksdb_options_create();
  rocksdb_t *raw = rocksdb_open_for_read_only(o, path, 0, &err);
  assert_null(err);
  rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
  rocksdb_iterator_t *it = rocksdb_create_iterator(raw, ro);
  static const char data_key[] = {0x00, 0, 2, 'w', 'c', 0, 0, 1, 2, 'k'};
  static const char ckpt_key[] = {0x01, 0, 2, 'w', 'c', 0, 0, 1, 2};
  static const char ckpt_val[] = {0, 0, 0, 0, 0, 0, 0, 42};
  size_t kn, vn;
  rocksdb_iter_seek_to_first(it);
  assert_true(rocksdb_iter_valid(it));
  const char *k = rocksdb_iter_key(it, &kn);
  assert_int_equal(kn, sizeof data_key);
  assert_memory_equal(k, data_key, kn);
  assert_memory_equal(rocksdb_iter_value(it, &vn), "v", 1);
  rocksdb_iter_next(it);
  assert_true(rocksdb_iter_valid(it));
  k = rocksdb_iter_key(it, &kn);
  assert_int_equal(kn, sizeof ckpt_key);
  assert_memory_equal(k, ckpt_key, kn);
  const char *v = rocksdb_iter_value(it, &vn);
  assert_int_equal(vn, 8);
  assert_memory_equal(v, ckpt_val, 8);
  rocksdb_iter_next(it);
  assert_false(rocksdb_iter_valid(it));
  rocksdb_iter_destroy(it);
  rocksdb_readoptions_destroy(ro);
  rocksdb_close(raw);
  rocksdb_options_destroy(o);
}

static void test_drop_removes_only_that_store_partition(void **state) {
  fx_t *fx = *state;
  char err[256];
  fx->db = open_db(fx, NULL);
  static const char *stores[] = {"a", "ab", "b"};
  weir_state_batch_t *b = weir_state_batch_new();
  for (int s = 0; s < 3; s++) {
    for (int32_t p = 0; p < 3; p++) {
      weir_state_batch_put(b, stores[s], p, "x", 1, "1", 1);
      weir_state_batch_put(b, stores[s], p, "\xff\xff", 2, "2", 1);
      weir_state_batch_checkpoint(b, stores[s], p, 100 + p);
    }
  }
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_free(b);

  assert_int_equal(weir_state_db_drop(fx->db, "a", 1, err, sizeof err), 0);
  for (int s = 0; s < 3; s++) {
    for (int32_t p = 0; p < 3; p++) {
      int gone = s == 0 && p == 1;
      expect_row(fx->db, stores[s], p, "x", gone ? NULL : "1");
      expect_row(fx->db, stores[s], p, "\xff\xff", gone ? NULL : "2");
      assert_int_equal(checkpoint(fx->db, stores[s], p), gone ? -1 : 100 + p);
    }
  }
  /* The dropped store-partition is writable again. */
  put(fx->db, "a", 1, "x", "new");
  expect_row(fx->db, "a", 1, "x", "new");
}

/* Collects every key of an iterator, joined by '|'. */
static void collect(weir_state_iter_t *it, char *out, size_t out_size) {
  const void *k, *v;
  size_t kn, vn;
  int rc, rows = 0;
  assert_non_null(it);
  out[0] = '\0';
  while ((rc = weir_state_iter_next(it, &k, &kn, &v, &vn)) == 1) {
    size_t len = strlen(out);
    snprintf(out + len, out_size - len, "%s%.*s", rows++ ? "|" : "", (int)kn, (const char *)k);
  }
  assert_int_equal(rc, 0);
  assert_string_equal(weir_state_iter_error(it), "");
  weir_state_iter_close(it);
}

static void fill_for_iteration(weir_state_db_t *db) {
  static const char *keys[] = {"b", "a", "abc", "ab", "c", "b~", "~", "~~", ""};
  char err[256];
  weir_state_batch_t *b = weir_state_batch_new();
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    weir_state_batch_put(b, "s", 1, keys[i], strlen(keys[i]), "v", 1);
  /* Neighbours that must never show up. */
  weir_state_batch_put(b, "s", 0, "zz0", 3, "x", 1);
  weir_state_batch_put(b, "s", 2, "a2", 2, "x", 1);
  weir_state_batch_put(b, "s2", 1, "a", 1, "x", 1);
  weir_state_batch_put(b, "r", 1, "a", 1, "x", 1);
  weir_state_batch_checkpoint(b, "s", 1, 5);
  assert_int_equal(weir_state_batch_write(db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
}

static weir_state_iter_t *range(fx_t *fx, const char *from, const char *to) {
  return weir_state_iter_range(fx->db, "s", 1, from, from ? strlen(from) : 0, to,
                               to ? strlen(to) : 0);
}

static void test_range_order_and_bounds(void **state) {
  fx_t *fx = *state;
  char got[256];
  fx->db = open_db(fx, NULL);
  collect(weir_state_iter_range(fx->db, "s", 1, NULL, 0, NULL, 0), got, sizeof got);
  assert_string_equal(got, ""); /* an empty store */
  fill_for_iteration(fx->db);
  collect(range(fx, NULL, NULL), got, sizeof got);
  /* "" first: its row is exactly the store-partition prefix. */
  assert_string_equal(got, "|a|ab|abc|b|b~|c|~|~~");
  collect(range(fx, "a", "b"), got, sizeof got);
  assert_string_equal(got, "a|ab|abc");
  collect(range(fx, "ab", "abc"), got, sizeof got);
  assert_string_equal(got, "ab");
  collect(range(fx, "aa", "abd"), got, sizeof got);
  assert_string_equal(got, "ab|abc");
  collect(range(fx, "b", NULL), got, sizeof got);
  assert_string_equal(got, "b|b~|c|~|~~");
  collect(range(fx, NULL, "ab"), got, sizeof got);
  assert_string_equal(got, "|a");
  collect(range(fx, "c", "a"), got, sizeof got);
  assert_string_equal(got, "");
  collect(range(fx, "b", "b"), got, sizeof got);
  assert_string_equal(got, "");
}

static void test_prefix_order_and_bounds(void **state) {
  fx_t *fx = *state;
  char got[256];
  fx->db = open_db(fx, NULL);
  collect(weir_state_iter_prefix(fx->db, "s", 1, "a", 1), got, sizeof got);
  assert_string_equal(got, ""); /* an empty store */
  fill_for_iteration(fx->db);
  collect(weir_state_iter_prefix(fx->db, "s", 1, "a", 1), got, sizeof got);
  assert_string_equal(got, "a|ab|abc");
  collect(weir_state_iter_prefix(fx->db, "s", 1, "ab", 2), got, sizeof got);
  assert_string_equal(got, "ab|abc");
  collect(weir_state_iter_prefix(fx->db, "s", 1, "abc", 3), got, sizeof got);
  assert_string_equal(got, "abc");
  collect(weir_state_iter_prefix(fx->db, "s", 1, "abcd", 4), got, sizeof got);
  assert_string_equal(got, "");
  collect(weir_state_iter_prefix(fx->db, "s", 1, "", 0), got, sizeof got);
  assert_string_equal(got, "|a|ab|abc|b|b~|c|~|~~");
  collect(weir_state_iter_prefix(fx->db, "s", 1, "~", 1), got, sizeof got);
  assert_string_equal(got, "~|~~");
}

/* Keys ending in 0xff: a prefix bound must carry into the partition bytes
 * without leaking into the next partition. */
static void test_prefix_of_ff_bytes_stays_in_partition(void **state) {
  fx_t *fx = *state;
  char err[256];
  const void *k, *v;
  size_t kn, vn;
  fx->db = open_db(fx, NULL);
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "s", 0, "\xff", 1, "1", 1);
  weir_state_batch_put(b, "s", 0, "\xff\xff", 2, "2", 1);
  weir_state_batch_put(b, "s", 1, "", 0, "next", 4);
  weir_state_batch_put(b, "s", 1, "\xff", 1, "next", 4);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
  weir_state_iter_t *it = weir_state_iter_prefix(fx->db, "s", 0, "\xff", 1);
  assert_int_equal(weir_state_iter_next(it, &k, &kn, &v, &vn), 1);
  assert_int_equal(kn, 1);
  assert_memory_equal(v, "1", 1);
  assert_int_equal(weir_state_iter_next(it, &k, &kn, &v, &vn), 1);
  assert_int_equal(kn, 2);
  assert_memory_equal(k, "\xff\xff", 2);
  assert_memory_equal(v, "2", 1);
  assert_int_equal(weir_state_iter_next(it, &k, &kn, &v, &vn), 0);
  weir_state_iter_close(it);
}

/* A forked child holds the directory; the parent's open must name its pid. */
static void test_lock_names_the_other_pid(void **state) {
  fx_t *fx = *state;
  int up[2], down[2];
  char c = 0, want[64];
  assert_int_equal(pipe(up), 0);
  assert_int_equal(pipe(down), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char err[256];
    weir_state_db_t *db = weir_state_db_open(fx->dir, "app", 16, NULL, err, sizeof err);
    c = db ? '1' : '0';
    if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1)
      _exit(2);
    weir_state_db_close(db);
    _exit(0);
  }
  assert_int_equal(read(up[0], &c, 1), 1);
  assert_int_equal(c, '1');
  assert_null(weir_state_db_open(fx->dir, "app", 16, NULL, fx->err, sizeof fx->err));
  snprintf(want, sizeof want, "(pid %ld)", (long)pid);
  if (!strstr(fx->err, want) || !strstr(fx->err, "is in use by another process") ||
      !strstr(fx->err, fx->dir) || !strstr(fx->err, "give each instance its own state.dir"))
    fail_msg("unexpected error: %s", fx->err);
  assert_int_equal(write(down[1], "x", 1), 1);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fx->db = open_db(fx, NULL); /* the child is gone: free again */
  close(up[0]);
  close(up[1]);
  close(down[0]);
  close(down[1]);
}

/* Overwrites (or removes) every MANIFEST-* of the closed DB. */
static int damage_manifests(const char *dbpath, int remove_them) {
  int n = 0;
  char path[512];
  DIR *d = opendir(dbpath);
  struct dirent *de;
  assert_non_null(d);
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, "MANIFEST-", 9) != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dbpath, de->d_name);
    if (remove_them) {
      assert_int_equal(unlink(path), 0);
    } else {
      FILE *f = fopen(path, "w");
      assert_non_null(f);
      for (int i = 0; i < 512; i++)
        fputs("garbage!", f);
      fclose(f);
    }
    n++;
  }
  closedir(d);
  return n;
}

static void check_wipe(fx_t *fx, int remove_manifests) {
  int wiped = -1;
  char dbpath[160];
  fx->db = open_db(fx, &wiped);
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "s", 0, "k", 1, "v", 1);
  weir_state_batch_checkpoint(b, "s", 0, 9);
  assert_int_equal(weir_state_batch_write(fx->db, b, fx->err, sizeof fx->err), 0);
  weir_state_batch_free(b);
  snprintf(dbpath, sizeof dbpath, "%s", weir_state_db_path(fx->db));
  weir_state_db_close(fx->db);
  fx->db = NULL;
  assert_true(damage_manifests(dbpath, remove_manifests) >= 1);

  fx->db = open_db(fx, &wiped);
  assert_int_equal(wiped, 1);
  expect_row(fx->db, "s", 0, "k", NULL);
  assert_int_equal(checkpoint(fx->db, "s", 0), -1);
  put(fx->db, "s", 0, "k", "again");
  expect_row(fx->db, "s", 0, "k", "again");
  weir_state_db_close(fx->db);
  fx->db = open_db(fx, &wiped);
  assert_int_equal(wiped, 0);
  expect_row(fx->db, "s", 0, "k", "again");
}

static void test_garbage_manifest_is_wiped(void **state) {
  check_wipe(*state, 0);
}
static void test_missing_manifest_is_wiped(void **state) {
  check_wipe(*state, 1);
}

/* An I/O problem is not corruption: the path must be left alone. */
static void test_io_error_is_an_error_not_a_wipe(void **state) {
  fx_t *fx = *state;
  char path[160];
  struct stat st;
  int wiped = -1;
  snprintf(path, sizeof path, "%s/app", fx->dir);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/app/rocksdb", fx->dir);
  FILE *f = fopen(path, "w"); /* a file where the directory should be */
  assert_non_null(f);
  fputs("not a database", f);
  fclose(f);
  assert_null(weir_state_db_open(fx->dir, "app", 16, &wiped, fx->err, sizeof fx->err));
  assert_int_equal(wiped, 0);
  if (strncmp(fx->err, "cannot open state directory ", 28) != 0 || strchr(fx->err, '\n'))
    fail_msg("unexpected error: %s", fx->err);
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
}

/* A store's file bytes count its rows in every partition and no other
 * store's, even one whose name it starts ("a" and "ab"). */
static void test_store_bytes_per_store(void **state) {
  fx_t *fx = *state;
  char err[256], key[16], value[200];
  fx->db = open_db(fx, NULL);
  memset(value, 'v', sizeof value);
  weir_state_batch_t *b = weir_state_batch_new();
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "k%05d", i);
    weir_state_batch_put(b, "ab", i % 4, key, strlen(key), value, sizeof value);
  }
  weir_state_batch_put(b, "a", 0, "x", 1, "1", 1);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
  assert_int_equal(weir_state_db_flush(fx->db, err, sizeof err), 0);
  long long ab = weir_state_db_store_bytes(fx->db, "ab");
  long long a = weir_state_db_store_bytes(fx->db, "a");
  /* 5000 rows of 200 bytes, compressed or not, take more than 10 KB; the
   * one-row store a few hundred bytes at most. */
  assert_true(ab > 10000);
  assert_true(a >= 0 && a < ab / 10);
  assert_int_equal(weir_state_db_store_bytes(fx->db, "none"), 0);
}

/* Filters and indexes are charged to the block cache (state.memory.mb), not
 * held by the open tables beside it: outside, they grew with the keys,
 * 10 bits of filter a key. 200,000 keys make a 250 KB filter. */
static void test_filters_and_indexes_in_block_cache(void **state) {
  fx_t *fx = *state;
  char err[256], key[32];
  fx->db = open_db(fx, NULL);
  weir_state_batch_t *b = weir_state_batch_new();
  for (int i = 0; i < 200000; i++) {
    snprintf(key, sizeof key, "key-%08d", i);
    weir_state_batch_put(b, "s", 0, key, strlen(key), "12345678", 8);
  }
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
  assert_int_equal(weir_state_db_flush(fx->db, err, sizeof err), 0);
  expect_row(fx->db, "s", 0, "key-00012345", "12345678");
  expect_row(fx->db, "s", 0, "key-99999999", NULL);
  long long readers = weir_state_db_estimate(fx->db, "rocksdb.estimate-table-readers-mem");
  assert_true(readers >= 0);
  assert_true(readers < 64 * 1024);
}

/* A batch cleared after a large write is as good as new, and one cleared
 * after a small write keeps working (the large one's buffer is given back,
 * see weir_state_batch_clear). */
static void test_batch_reused_after_large_write(void **state) {
  fx_t *fx = *state;
  char err[256], key[32], value[65];
  fx->db = open_db(fx, NULL);
  memset(value, 'v', sizeof value - 1);
  value[sizeof value - 1] = '\0';
  weir_state_batch_t *b = weir_state_batch_new();
  for (int i = 0; i < 40000; i++) { /* ~3.5 MB */
    snprintf(key, sizeof key, "big-%06d", i);
    weir_state_batch_put(b, "s", 0, key, strlen(key), value, strlen(value));
  }
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_clear(b);
  assert_int_equal(weir_state_batch_count(b), 0);
  weir_state_batch_put(b, "s", 0, "small", 5, "1", 1);
  weir_state_batch_checkpoint(b, "s", 0, 7);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_clear(b);
  weir_state_batch_put(b, "s", 0, "again", 5, "2", 1);
  assert_int_equal(weir_state_batch_write(fx->db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
  expect_row(fx->db, "s", 0, "big-039999", value);
  expect_row(fx->db, "s", 0, "small", "1");
  expect_row(fx->db, "s", 0, "again", "2");
  assert_int_equal(checkpoint(fx->db, "s", 0), 7);
}

/* One batch: row k = v with checkpoint cp for store s, partition 0. */
static void write_checkpointed(weir_state_db_t *db, const char *k, const char *v, int64_t cp) {
  char err[256];
  weir_state_batch_t *b = weir_state_batch_new();
  weir_state_batch_put(b, "s", 0, k, strlen(k), v, strlen(v));
  weir_state_batch_checkpoint(b, "s", 0, cp);
  assert_int_equal(weir_state_batch_write(db, b, err, sizeof err), 0);
  weir_state_batch_free(b);
}

/* Batch 1 is written and flushed to a table file; then a forked child
 * writes batch 2 and dies as a killed process does: no close. (The child
 * cannot flush: RocksDB's background threads are not forked.) */
static void crash_after_two_batches(fx_t *fx, int wal) {
  char err[256];
  weir_state_db_t *db = open_db(fx, NULL);
  weir_state_db_set_wal(db, wal);
  write_checkpointed(db, "one", "1", 10);
  assert_int_equal(weir_state_db_flush(db, err, sizeof err), 0);
  weir_state_db_close(db);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    db = weir_state_db_open(fx->dir, "app", 16, NULL, err, sizeof err);
    if (!db)
      _exit(2);
    weir_state_db_set_wal(db, wal);
    write_checkpointed(db, "two", "2", 20);
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* state.wal = true (the default): a killed process loses no batch. */
static void test_wal_keeps_every_batch_across_a_crash(void **state) {
  fx_t *fx = *state;
  crash_after_two_batches(fx, 1);
  fx->db = open_db(fx, NULL);
  expect_row(fx->db, "s", 0, "one", "1");
  expect_row(fx->db, "s", 0, "two", "2");
  assert_int_equal(checkpoint(fx->db, "s", 0), 20);
}

/* state.wal = false: a killed process comes back to RocksDB's last flush,
 * the unflushed batch's row and checkpoint both gone, so the restore reads
 * the changelog from checkpoint 10 and finds the row again. */
static void test_without_wal_a_crash_goes_back_to_the_last_flush(void **state) {
  fx_t *fx = *state;
  crash_after_two_batches(fx, 0);
  fx->db = open_db(fx, NULL);
  expect_row(fx->db, "s", 0, "one", "1");
  expect_row(fx->db, "s", 0, "two", NULL);
  assert_int_equal(checkpoint(fx->db, "s", 0), 10);
}

/* state.wal = false: a close flushes, so a stop loses nothing. */
static void test_without_wal_a_close_keeps_every_batch(void **state) {
  fx_t *fx = *state;
  fx->db = open_db(fx, NULL);
  weir_state_db_set_wal(fx->db, 0);
  write_checkpointed(fx->db, "one", "1", 10);
  weir_state_db_close(fx->db);
  fx->db = open_db(fx, NULL);
  expect_row(fx->db, "s", 0, "one", "1");
  assert_int_equal(checkpoint(fx->db, "s", 0), 10);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_put_get_delete),
      T(test_rows_survive_reopen),
      T(test_creates_nested_dirs),
      T(test_bad_arguments),
      T(test_checkpoint_written_atomically_with_rows),
      T(test_key_layout_on_disk),
      T(test_drop_removes_only_that_store_partition),
      T(test_range_order_and_bounds),
      T(test_prefix_order_and_bounds),
      T(test_prefix_of_ff_bytes_stays_in_partition),
      T(test_lock_names_the_other_pid),
      T(test_garbage_manifest_is_wiped),
      T(test_missing_manifest_is_wiped),
      T(test_io_error_is_an_error_not_a_wipe),
      T(test_store_bytes_per_store),
      T(test_filters_and_indexes_in_block_cache),
      T(test_batch_reused_after_large_write),
      T(test_wal_keeps_every_batch_across_a_crash),
      T(test_without_wal_a_crash_goes_back_to_the_last_flush),
      T(test_without_wal_a_close_keeps_every_batch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
