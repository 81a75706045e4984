/* The host API's window and session store functions (host_api_windows.h).
 * Window iterators are copies (window_store.h) handed out with a table of
 * their own, so iter_next / iter_close / iter_window reach this file while
 * the key-value iterators keep theirs. */
#include "task/host_api_windows.h"

#include <stdlib.h>

#include "state/session_store.h"
#include "state/window_store.h"
#include "task/task.h"

/* Same as a key-value put's: a dirty run this long asks for an early commit
 * once the caches are over budget (task_state.c explains the figure). */
enum { EARLY_COMMIT_RUN = 1024 };

typedef struct window_iter {
  weir_iter_t pub; /* first */
  weir_window_iter_t *it;
  weir_task_store_t *ts; /* whose iter_spare it becomes when closed */
  int64_t start, end;    /* of the item last returned */
} window_iter_t;

static int iter_next(weir_iter_t *it, const void **key, size_t *key_len, const void **value,
                     size_t *value_len);
static void iter_close(weir_iter_t *it);
static int iter_window(weir_iter_t *it, int64_t *start, int64_t *end);

/* What a plugin reaches through a window iterator's api pointer: only the
 * iterator functions (the wrappers call nothing else on it->api). */
static const weir_host_api_t window_iter_api = {
    .struct_size = sizeof(weir_host_api_t),
    .abi_major = WEIR_ABI_MAJOR,
    .abi_minor = WEIR_ABI_MINOR,
    .iter_next = iter_next,
    .iter_close = iter_close,
    .iter_window = iter_window,
};

/* The store when it is open and of `kind`; NULL otherwise (*rc says why).
 * A write moves the store's stream time to the task's (expiring what is past
 * retention); a read does not: it sees the store as of its last write, so an
 * operator reads what the record in hand is about to expire before its
 * first write does (a stream-stream join emits the unmatched records a jump
 * in stream time closed; with retention = before + after + grace they were
 * expired first and lost). */
static weir_task_store_t *windowed(weir_store_t *store, int kind, int *rc, int write) {
  weir_task_store_t *ts = (weir_task_store_t *)store;
  if (!ts->kv) {
    *rc = WEIR_ESTATE;
    return NULL;
  }
  if (!ts->win || weir_window_store_kind(ts->win) != kind) {
    *rc = WEIR_EINVAL;
    return NULL;
  }
  if (write)
    weir_window_store_advance(ts->win, ts->task->stream_time);
  return ts;
}

static int failed(weir_task_store_t *ts, const char *what, const char *why) {
  weir_task_set_error(ts->task, "store '%s' (task %s): %s failed: %s", ts->decl->name, ts->task->id,
                      what, why);
  return WEIR_EFAIL;
}

/* A put's outcome (window_store.h's codes) as the API's. */
static int put_result(weir_task_store_t *ts, int rc) {
  if (rc < 0)
    return failed(ts, "a write", "out of memory (or a session with start > end)");
  const weir_cache_budget_t *budget = ts->task->env->cache_budget;
  size_t run = budget && budget->max > 0 ? EARLY_COMMIT_RUN : 1;
  if (rc == 1 && ts->task->env->commit_wanted && weir_kv_store_dirty_count(ts->kv) >= run)
    *ts->task->env->commit_wanted = 1;
  return WEIR_OK; /* 2: past retention, ignored as Kafka Streams does */
}

/* The store keeps one closed wrapper for the next fetch (a fetch or two a
 * record in windowed counts and stream-stream joins). */
static weir_iter_t *wrap(weir_task_store_t *ts, weir_window_iter_t *it, const char *why) {
  window_iter_t *w = it ? (ts->iter_spare ? ts->iter_spare : malloc(sizeof *w)) : NULL;
  if (w == ts->iter_spare)
    ts->iter_spare = NULL;
  if (!w) {
    if (!it)
      failed(ts, "a read", why[0] ? why : "out of memory");
    weir_window_iter_close(it);
    return NULL;
  }
  w->pub = (weir_iter_t){(uint32_t)sizeof(weir_iter_t), 0, &window_iter_api};
  w->it = it;
  w->ts = ts;
  w->start = w->end = 0;
  return &w->pub;
}

int weir_api_store_kind(weir_store_t *store) {
  int kind = ((weir_task_store_t *)store)->decl->kind;
  return kind == WEIR_STORE_WINDOW || kind == WEIR_STORE_SESSION ? kind : WEIR_STORE_KV;
}

int weir_api_window_put(weir_store_t *store, const void *key, size_t key_len, int64_t window_start,
                        const void *value, size_t value_len) {
  int rc;
  weir_task_store_t *ts = windowed(store, WEIR_STORE_WINDOW, &rc, 1);
  if (!ts)
    return rc;
  if (value && !value_len)
    value = ""; /* an empty value, not a delete */
  return put_result(
      ts, weir_window_store_put(ts->win, key ? key : "", key_len, window_start, value, value_len));
}

weir_iter_t *weir_api_window_fetch(weir_store_t *store, const void *key, size_t key_len,
                                   int64_t time_from, int64_t time_to) {
  int rc;
  char why[512] = "";
  weir_task_store_t *ts = windowed(store, WEIR_STORE_WINDOW, &rc, 0);
  if (!ts)
    return NULL;
  return wrap(ts,
              weir_window_store_fetch(ts->win, key ? key : "", key_len, time_from, time_to, why,
                                      sizeof why),
              why);
}

/* On a session store: every key's sessions whose end is in the range (the
 * sessions an operator emits once closed; weir.h says so). */
weir_iter_t *weir_api_window_fetch_all(weir_store_t *store, int64_t time_from, int64_t time_to) {
  int rc;
  char why[512] = "";
  weir_task_store_t *ts = (weir_task_store_t *)store;
  int kind = ts->win ? weir_window_store_kind(ts->win) : WEIR_STORE_WINDOW;
  if (!(ts = windowed(store, kind, &rc, 0)))
    return NULL;
  if (kind == WEIR_STORE_SESSION)
    return wrap(ts, weir_session_store_fetch_all(ts->win, time_from, time_to, why, sizeof why),
                why);
  return wrap(ts, weir_window_store_fetch_all(ts->win, time_from, time_to, why, sizeof why), why);
}

weir_iter_t *weir_api_session_find(weir_store_t *store, const void *key, size_t key_len,
                                   int64_t earliest_end, int64_t latest_start) {
  int rc;
  char why[512] = "";
  weir_task_store_t *ts = windowed(store, WEIR_STORE_SESSION, &rc, 0);
  if (!ts)
    return NULL;
  return wrap(
      ts,
      weir_session_store_find(ts->win, key, key_len, earliest_end, latest_start, why, sizeof why),
      why);
}

int weir_api_session_put(weir_store_t *store, const void *key, size_t key_len, int64_t start,
                         int64_t end, const void *value, size_t value_len) {
  int rc;
  weir_task_store_t *ts = windowed(store, WEIR_STORE_SESSION, &rc, 1);
  if (!ts)
    return rc;
  if (start > end)
    return WEIR_EINVAL;
  return put_result(ts, weir_session_store_put(ts->win, key ? key : "", key_len, start, end,
                                               value ? value : "", value_len));
}

int weir_api_session_remove(weir_store_t *store, const void *key, size_t key_len, int64_t start,
                            int64_t end) {
  int rc;
  weir_task_store_t *ts = windowed(store, WEIR_STORE_SESSION, &rc, 1);
  if (!ts)
    return rc;
  if (start > end)
    return WEIR_EINVAL;
  return put_result(ts,
                    weir_session_store_put(ts->win, key ? key : "", key_len, start, end, NULL, 0));
}

int weir_api_iter_window(weir_iter_t *it, int64_t *start, int64_t *end) {
  (void)it, (void)start, (void)end;
  return WEIR_EINVAL;
}

/* ---------------------------------------------------------------- iterators */

static int iter_next(weir_iter_t *it, const void **key, size_t *key_len, const void **value,
                     size_t *value_len) {
  window_iter_t *w = (window_iter_t *)it;
  return weir_window_iter_next(w->it, key, key_len, value, value_len, &w->start, &w->end) > 0
             ? WEIR_OK
             : WEIR_ENOENT;
}

static void iter_close(weir_iter_t *it) {
  window_iter_t *w = (window_iter_t *)it;
  weir_window_iter_close(w->it);
  if (!w->ts->iter_spare)
    w->ts->iter_spare = w;
  else
    free(w);
}

void weir_api_window_spare_free(weir_task_store_t *ts) {
  free(ts->iter_spare);
  ts->iter_spare = NULL;
}

static int iter_window(weir_iter_t *it, int64_t *start, int64_t *end) {
  window_iter_t *w = (window_iter_t *)it;
  *start = w->start;
  *end = w->end;
  return WEIR_OK;
}
