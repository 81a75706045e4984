/* session_store — session puts and finds over window_store.c's segments. */
#include "state/session_store.h"

#include <stdlib.h>
#include <string.h>

enum { KEY_INLINE = 256 };

int weir_session_store_put(weir_window_store_t *ws, const void *key, size_t key_len, int64_t start,
                           int64_t end, const void *value, size_t value_len) {
  if (start > end || key_len > UINT32_MAX - 64)
    return -1;
  if (!weir_window_store_live(ws, end))
    return 2;
  int64_t seg = weir_window_store_segment(ws, end);
  unsigned char small[KEY_INLINE];
  size_t len = WEIR_WKEY_HEAD + key_len + 2 * WEIR_WKEY_TIME;
  unsigned char *k = len <= sizeof small ? small : malloc(len);
  if (!k)
    return -1;
  weir_wkey_put_time(k, seg);
  for (int i = 0; i < 4; i++)
    k[WEIR_WKEY_TIME + i] = (unsigned char)((uint32_t)key_len >> (24 - 8 * i));
  if (key_len)
    memcpy(k + WEIR_WKEY_HEAD, key, key_len);
  weir_wkey_put_time(k + WEIR_WKEY_HEAD + key_len, end);
  weir_wkey_put_time(k + WEIR_WKEY_HEAD + key_len + WEIR_WKEY_TIME, start);
  int rc = weir_kv_store_put(weir_window_store_kv(ws), k, len, value, value_len);
  if (k != small)
    free(k);
  if (rc >= 0)
    weir_window_store_saw(ws, seg);
  return rc;
}

typedef struct {
  weir_window_iter_t *it;
  int64_t earliest_end, latest_start;
} find_t;

static int find_row(void *opaque, const void *key, size_t key_len, const unsigned char *times,
                    const void *value, size_t value_len) {
  find_t *f = opaque;
  int64_t end = weir_wkey_time(times), start = weir_wkey_time(times + WEIR_WKEY_TIME);
  if (end < f->earliest_end || start > f->latest_start)
    return 0;
  return weir_window_iter_add(f->it, key, key_len, value, value_len, start, end);
}

/* Sessions are segmented by end, and an end has no upper bound from the
 * query: every segment from earliest_end's up to the highest one holding
 * rows is searched (as Kafka Streams' SessionKeySchema does). */
weir_window_iter_t *weir_session_store_find(weir_window_store_t *ws, const void *key,
                                            size_t key_len, int64_t earliest_end,
                                            int64_t latest_start, char *errstr,
                                            size_t errstr_size) {
  find_t f = {weir_window_iter_new(), earliest_end, latest_start};
  if (!f.it)
    return NULL;
  if (weir_window_store_scan(ws, key ? key : "", key_len,
                             weir_window_store_segment(ws, earliest_end), INT64_MAX, find_row, &f,
                             errstr, errstr_size)) {
    weir_window_iter_close(f.it);
    return NULL;
  }
  weir_window_iter_sort(f.it);
  return f.it;
}

static int all_row(void *opaque, const void *key, size_t key_len, const unsigned char *times,
                   const void *value, size_t value_len) {
  find_t *f = opaque; /* earliest_end..latest_start hold the end range here */
  int64_t end = weir_wkey_time(times), start = weir_wkey_time(times + WEIR_WKEY_TIME);
  if (end < f->earliest_end || end > f->latest_start)
    return 0;
  return weir_window_iter_add(f->it, key, key_len, value, value_len, start, end);
}

weir_window_iter_t *weir_session_store_fetch_all(weir_window_store_t *ws, int64_t end_from,
                                                 int64_t end_to, char *errstr, size_t errstr_size) {
  find_t f = {weir_window_iter_new(), end_from, end_to};
  if (!f.it || end_from > end_to)
    return f.it;
  if (weir_window_store_scan(ws, NULL, 0, weir_window_store_segment(ws, end_from),
                             weir_window_store_segment(ws, end_to), all_row, &f, errstr,
                             errstr_size)) {
    weir_window_iter_close(f.it);
    return NULL;
  }
  weir_window_iter_sort(f.it);
  return f.it;
}
