/* host_api_windows: the 1.2 window and session functions as a plugin calls
 * them, through the host's table and the weir.h wrappers: stream time taken
 * from the task, window iterators with their own table (iter_window), and
 * each kind's functions refused on the other kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/window_store.h"
#include "support/state_fixture.h"
#include "task/host_api_windows.h"
#include "task/task.h"

typedef struct {
  weir_test_db_t st;
  atomic_int stopping;
  weir_task_env_t env;
  weir_task_t task;
  weir_store_decl_t decl[3]; /* kv, window, session */
  weir_task_store_t ts[3];
} fx_t;

static int setup(void **state) {
  static const char *const names[] = {"kv", "win", "ses"};
  static const int kinds[] = {WEIR_STORE_KV, WEIR_STORE_WINDOW, WEIR_STORE_SESSION};
  fx_t *fx = calloc(1, sizeof *fx);
  *state = fx;
  if (weir_test_db_open(&fx->st, "weir-haw"))
    return -1;
  fx->env.state_db = fx->st.db;
  fx->env.cache_budget = &fx->st.budget;
  fx->env.stopping = &fx->stopping;
  fx->task.env = &fx->env;
  fx->task.stream_time = -1;
  snprintf(fx->task.id, sizeof fx->task.id, "0_0");
  for (int i = 0; i < 3; i++) {
    fx->decl[i] = (weir_store_decl_t){
        .name = (char *)names[i], .kind = kinds[i], .window_size_ms = 1000, .retention_ms = 60000};
    fx->ts[i].pub = (weir_store_t){(uint32_t)sizeof(weir_store_t), 0, &weir_host_api_v1};
    fx->ts[i].task = &fx->task;
    fx->ts[i].decl = &fx->decl[i];
    fx->ts[i].kv = weir_kv_store_new(fx->st.db, names[i], 0, &fx->st.budget);
    if (i)
      fx->ts[i].win = weir_window_store_new(fx->ts[i].kv, kinds[i], 1000, 60000);
  }
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  for (int i = 0; i < 3; i++) {
    weir_api_window_spare_free(&fx->ts[i]);
    weir_window_store_free(fx->ts[i].win);
    weir_kv_store_free(fx->ts[i].kv);
  }
  weir_test_db_close(&fx->st);
  free(fx);
  return 0;
}

static void test_kinds_and_refusals(void **state) {
  fx_t *fx = *state;
  weir_store_t *kv = &fx->ts[0].pub, *win = &fx->ts[1].pub, *ses = &fx->ts[2].pub;
  const void *v;
  size_t n;
  assert_int_equal(weir_store_kind(kv), WEIR_STORE_KV);
  assert_int_equal(weir_store_kind(win), WEIR_STORE_WINDOW);
  assert_int_equal(weir_store_kind(ses), WEIR_STORE_SESSION);
  assert_int_equal(weir_window_put(kv, "a", 1, 0, "v", 1), WEIR_EINVAL);
  assert_int_equal(weir_session_put(win, "a", 1, 0, 5, "v", 1), WEIR_EINVAL);
  assert_null(weir_window_fetch(ses, "a", 1, 0, 10));
  assert_int_equal(weir_kv_put(win, "a", 1, "v", 1), WEIR_EINVAL);
  assert_int_equal(weir_kv_get(ses, "a", 1, &v, &n), WEIR_EINVAL);
  assert_null(weir_kv_range(win, NULL, 0, NULL, 0));
  assert_int_equal(weir_session_put(ses, "a", 1, 5, 4, "v", 1), WEIR_EINVAL); /* start > end */
  weir_iter_t *it = weir_kv_range(kv, NULL, 0, NULL, 0);
  int64_t s, e;
  assert_int_equal(weir_iter_window(it, &s, &e), WEIR_EINVAL);
  weir_iter_close(it);
}

static void test_window_calls_follow_task_stream_time(void **state) {
  fx_t *fx = *state;
  weir_store_t *win = &fx->ts[1].pub;
  const void *k, *v;
  size_t kl, vl;
  int64_t s, e;
  assert_int_equal(weir_window_put(win, "a", 1, 5000, "x", 1), WEIR_OK);
  assert_int_equal(weir_window_put(win, "b", 1, 1000, "", 0), WEIR_OK); /* empty, not a delete */
  weir_iter_t *it = weir_window_fetch_all(win, 0, 10000);
  assert_non_null(it);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_int_equal(weir_iter_window(it, &s, &e), WEIR_OK);
  assert_memory_equal(k, "b", 1);
  assert_int_equal(vl, 0);
  assert_int_equal(s, 1000);
  assert_int_equal(e, 2000);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_int_equal(weir_iter_window(it, &s, &e), WEIR_OK);
  assert_int_equal(s, 5000);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
  /* The task's stream time moves on: window [1000, 2000) ended more than
   * retention (60 s) ago, [5000, 6000) did not. */
  fx->task.stream_time = 62001;
  assert_int_equal(weir_window_put(win, "c", 1, 500, "late", 4), WEIR_OK); /* ignored */
  it = weir_window_fetch(win, "b", 1, 0, 10000);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
  it = weir_window_fetch(win, "a", 1, 5000, 5000);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_memory_equal(v, "x", 1);
  weir_iter_close(it);
  it = weir_window_fetch_all(win, 0, 1000);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
}

static void test_sessions(void **state) {
  fx_t *fx = *state;
  weir_store_t *ses = &fx->ts[2].pub;
  const void *k, *v;
  size_t kl, vl;
  int64_t s, e;
  assert_int_equal(weir_session_put(ses, "a", 1, 0, 100, "1", 1), WEIR_OK);
  assert_int_equal(weir_session_put(ses, "a", 1, 300, 400, "2", 1), WEIR_OK);
  weir_iter_t *it = weir_session_find(ses, "a", 1, 50, 350);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_int_equal(weir_iter_window(it, &s, &e), WEIR_OK);
  assert_int_equal(s, 0);
  assert_int_equal(e, 100);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_memory_equal(v, "2", 1);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
  /* On a session store, window_fetch_all selects by end (weir.h). */
  it = weir_window_fetch_all(ses, 101, 400);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_memory_equal(v, "2", 1);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
  assert_int_equal(weir_session_remove(ses, "a", 1, 0, 100), WEIR_OK);
  it = weir_session_find(ses, "a", 1, 0, INT64_MAX);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_OK);
  assert_memory_equal(v, "2", 1);
  assert_int_equal(weir_iter_next(it, &k, &kl, &v, &vl), WEIR_ENOENT);
  weir_iter_close(it);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_kinds_and_refusals),
      T(test_window_calls_follow_task_stream_time),
      T(test_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
