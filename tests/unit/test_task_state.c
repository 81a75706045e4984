/* task_state: the host API's store functions as an operator calls them.
 * Reads, ranges and a cache over its budget never write RocksDB: only a
 * commit does (task_state.h). Before the fix a range flushed the store to
 * RocksDB first, and a full cache wrote RocksDB ahead of the commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/state_fixture.h"
#include "task/task.h"
#include "util/fs.h"

typedef struct {
  weir_test_db_t st; /* the state db, its directory and cache budget */
  atomic_int stopping;
  weir_task_env_t env;
  weir_task_t task;
  weir_store_decl_t decl;
  weir_task_store_t ts;
} fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof *fx);
  if (weir_test_db_open(&fx->st, "weir-ts"))
    return -1;
  fx->env.state_db = fx->st.db;
  fx->env.cache_budget = &fx->st.budget;
  fx->env.stopping = &fx->stopping;
  fx->task.env = &fx->env;
  snprintf(fx->task.id, sizeof fx->task.id, "0_0");
  fx->decl.name = "s";
  fx->ts.pub = (weir_store_t){(uint32_t)sizeof(weir_store_t), 0, &weir_host_api_v1};
  fx->ts.task = &fx->task;
  fx->ts.decl = &fx->decl;
  fx->ts.acked_next = -1;
  fx->ts.kv = weir_kv_store_new(fx->st.db, "s", 0, &fx->st.budget);
  *state = fx;
  return fx->ts.kv ? 0 : -1;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  weir_kv_store_free(fx->ts.kv);
  weir_test_db_close(&fx->st);
  free(fx);
  return 0;
}

static void api_put(fx_t *fx, const char *k, const char *v) {
  assert_int_equal(weir_api_kv_put(&fx->ts.pub, k, strlen(k), v, strlen(v)), WEIR_OK);
}

/* Whether RocksDB itself holds `k`. */
static int in_rocksdb(fx_t *fx, const char *k) {
  void *v = NULL;
  size_t n = 0;
  int rc =
      weir_state_db_get(fx->st.db, "s", 0, k, strlen(k), &v, &n, fx->st.err, sizeof fx->st.err);
  free(v);
  return rc;
}

/* A range sees what the cache holds, and RocksDB is not written for it. */
static void test_range_reads_the_cache_without_writing(void **state) {
  fx_t *fx = *state;
  const void *k, *v;
  size_t kn, vn;
  api_put(fx, "b", "2");
  api_put(fx, "a", "1");
  weir_iter_t *it = weir_api_kv_range(&fx->ts.pub, NULL, 0, NULL, 0);
  assert_non_null(it);
  assert_int_equal(weir_api_iter_next(it, &k, &kn, &v, &vn), WEIR_OK);
  assert_memory_equal(k, "a", 1);
  assert_int_equal(weir_api_iter_next(it, &k, &kn, &v, &vn), WEIR_OK);
  assert_memory_equal(k, "b", 1);
  assert_int_equal(weir_api_iter_next(it, &k, &kn, &v, &vn), WEIR_ENOENT);
  weir_api_iter_close(it);
  it = weir_api_kv_prefix(&fx->ts.pub, "b", 1);
  assert_non_null(it);
  assert_int_equal(weir_api_iter_next(it, &k, &kn, &v, &vn), WEIR_OK);
  assert_memory_equal(v, "2", 1);
  weir_api_iter_close(it);
  assert_int_equal(in_rocksdb(fx, "a"), 0);
  assert_int_equal(in_rocksdb(fx, "b"), 0);
}

/* Far over the budget, puts keep everything in the cache (readable) and
 * write nothing to RocksDB. */
static void test_full_cache_writes_nothing_early(void **state) {
  fx_t *fx = *state;
  char key[16];
  fx->st.budget.max = 1;
  for (int i = 0; i < 3000; i++) {
    snprintf(key, sizeof key, "k%d", i);
    api_put(fx, key, "v");
  }
  for (int i = 0; i < 3000; i += 299) {
    snprintf(key, sizeof key, "k%d", i);
    assert_int_equal(in_rocksdb(fx, key), 0);
  }
  const void *v;
  size_t n;
  assert_int_equal(weir_api_kv_get(&fx->ts.pub, "k2999", 5, &v, &n), WEIR_OK);
  assert_memory_equal(v, "v", 1);
}

/* ...and asks its owner for a commit, which flushes and evicts, once the
 * store has a run of 1024 dirty entries. */
static void test_full_cache_asks_for_a_commit(void **state) {
  fx_t *fx = *state;
  char key[16];
  int wanted = 0;
  fx->env.commit_wanted = &wanted;
  api_put(fx, "a", "1");
  assert_int_equal(wanted, 0);
  fx->st.budget.max = 1;
  for (int i = 1; i < 1023; i++) {
    snprintf(key, sizeof key, "k%d", i);
    api_put(fx, key, "v");
  }
  assert_int_equal(wanted, 0);
  api_put(fx, "b", "2");
  assert_int_equal(wanted, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_range_reads_the_cache_without_writing),
      T(test_full_cache_writes_nothing_early),
      T(test_full_cache_asks_for_a_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
