/* window_store — segments, expiry, window puts and fetches (window_store.h),
 * and the copied, sorted iterator both windowed stores hand out. */
#include "state/window_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

#include "state/kv_iter.h"

enum {
  KEY_INLINE = 256,
  /* A one-key read over more segments than this scans the range once,
   * filtering by key, instead of one prefix per segment. */
  MAX_PREFIX_SEGMENTS = 64
};

struct weir_window_store {
  weir_kv_store_t *kv;
  int kind;
  int64_t size, retention, interval;
  int64_t observed; /* stream time; INT64_MIN: none yet */
  int64_t live_seg; /* the lowest segment that may hold live rows */
  int drop_pending; /* live_seg moved since the last flush */
  int64_t max_seg;  /* the highest segment that may hold rows */
  int scanned;      /* max_seg includes RocksDB's last row */
  /* Window stores: RocksDB holds no window starting after db_max_start (an
   * upper bound: the end of its last segment at open, then raised by each
   * flush to the latest start put before it, and by the restore), so a
   * window starting later is in the cache or nowhere — the get of a new
   * window, most of a windowed count's misses, skips RocksDB. */
  int64_t db_max_start;
  int64_t put_max_start; /* the latest start put since the last flush */
  /* A closed iterator kept for the next fetch: a windowed count or a
   * stream-stream join fetches once or twice a record, and the malloc and
   * free of each iterator were a visible share of it. */
  struct weir_window_iter *spare;
};

static struct weir_window_iter *iter_of(weir_window_store_t *ws);

typedef struct {
  char *buf; /* key then value */
  size_t key_len, value_len;
  int64_t start, end;
} witem_t;

enum { INLINE_ITEM = 96 };

/* One window fits in the iterator itself (a lookup of one window, every
 * record of a windowed count, allocates once); more grow on the heap. */
struct weir_window_iter {
  weir_window_store_t *home; /* where it goes back when closed; NULL: freed */
  witem_t *items;            /* &first until a second item */
  size_t count, cap, next;
  witem_t first;
  char first_buf[INLINE_ITEM];
};

/* ------------------------------------------------------------ encoding */

static void put_be32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* ------------------------------------------------------------ store */

int64_t weir_window_segment_interval(int64_t retention_ms) {
  int64_t half = retention_ms / 2;
  return half > 60000 ? half : 60000;
}

weir_window_store_t *weir_window_store_new(weir_kv_store_t *kv, int kind, int64_t window_size_ms,
                                           int64_t retention_ms) {
  weir_window_store_t *ws = calloc(1, sizeof *ws);
  if (!ws)
    return NULL;
  ws->kv = kv;
  ws->kind = kind;
  ws->size = kind == WEIR_STORE_WINDOW ? window_size_ms : 0;
  ws->retention = retention_ms;
  ws->interval = weir_window_segment_interval(retention_ms);
  ws->observed = INT64_MIN;
  ws->live_seg = INT64_MIN;
  ws->max_seg = INT64_MIN;
  ws->db_max_start = INT64_MIN;
  ws->put_max_start = INT64_MIN;
  return ws;
}

void weir_window_store_free(weir_window_store_t *ws) {
  if (ws)
    free(ws->spare);
  free(ws);
}

int64_t weir_window_store_segment(const weir_window_store_t *ws, int64_t t) {
  return floor_div(t, ws->interval);
}

int weir_window_store_live(const weir_window_store_t *ws, int64_t end) {
  return ws->observed == INT64_MIN || end >= sat_sub(ws->observed, ws->retention);
}

weir_kv_store_t *weir_window_store_kv(const weir_window_store_t *ws) {
  return ws->kv;
}
int weir_window_store_kind(const weir_window_store_t *ws) {
  return ws->kind;
}
int64_t weir_window_store_time(const weir_window_store_t *ws) {
  return ws->observed;
}

/* Rows at times from here on are bookkeeping, not windows (the window
 * operator keeps its last emitted close time at INT64_MAX / 2): they do not
 * raise max_seg, so they never stretch a read over empty segments. */
#define RESERVED_TIME (INT64_MAX / 4)

void weir_window_store_saw(weir_window_store_t *ws, int64_t seg) {
  if (seg > ws->max_seg && seg < weir_window_store_segment(ws, RESERVED_TIME))
    ws->max_seg = seg;
}

/* The first segment that may still hold a live row: a window lives while
 * start + size >= time - retention, a session while end >= it. */
static int64_t first_live_segment(const weir_window_store_t *ws) {
  int64_t min_end = sat_sub(ws->observed, ws->retention);
  int64_t min_time = ws->kind == WEIR_STORE_WINDOW ? sat_sub(min_end, ws->size) : min_end;
  return weir_window_store_segment(ws, min_time);
}

void weir_window_store_advance(weir_window_store_t *ws, int64_t stream_time) {
  if (stream_time <= ws->observed)
    return;
  ws->observed = stream_time;
  int64_t seg = first_live_segment(ws);
  if (seg <= ws->live_seg)
    return;
  unsigned char to[WEIR_WKEY_TIME];
  weir_wkey_put_time(to, seg);
  weir_kv_store_forget_range(ws->kv, NULL, 0, to, sizeof to);
  ws->live_seg = seg;
  ws->drop_pending = 1;
}

void weir_window_store_flush(weir_window_store_t *ws, weir_state_batch_t *batch) {
  /* In memory, RocksDB never holds a window: every fetch reads the cache. */
  if (ws->put_max_start > ws->db_max_start && !weir_kv_store_in_memory(ws->kv))
    ws->db_max_start = ws->put_max_start;
  if (!ws->drop_pending)
    return;
  unsigned char to[WEIR_WKEY_TIME];
  weir_wkey_put_time(to, ws->live_seg);
  weir_state_batch_delete_range(batch, weir_kv_store_name(ws->kv), weir_kv_store_partition(ws->kv),
                                NULL, 0, to, sizeof to);
  ws->drop_pending = 0;
}

static size_t times_len(const weir_window_store_t *ws) {
  return ws->kind == WEIR_STORE_SESSION ? 2 * WEIR_WKEY_TIME : WEIR_WKEY_TIME;
}

/* The end of the row whose time suffix is `times`. */
static int64_t row_end(const weir_window_store_t *ws, const unsigned char *times) {
  return ws->kind == WEIR_STORE_SESSION ? weir_wkey_time(times)
                                        : sat_add(weir_wkey_time(times), ws->size);
}

/* Split a stored key into its user key and time suffix; -1 when malformed. */
static int split_key(const weir_window_store_t *ws, const unsigned char *k, size_t len,
                     const unsigned char **key, size_t *key_len, const unsigned char **times) {
  size_t tl = times_len(ws);
  if (len < WEIR_WKEY_HEAD + tl)
    return -1;
  size_t kl = get_be32(k + WEIR_WKEY_TIME);
  if (kl != len - WEIR_WKEY_HEAD - tl)
    return -1;
  *key = k + WEIR_WKEY_HEAD;
  *key_len = kl;
  *times = k + WEIR_WKEY_HEAD + kl;
  return 0;
}

int weir_window_store_restore_keep(weir_window_store_t *ws, const void *key, size_t key_len) {
  const unsigned char *k, *times;
  size_t kl;
  if (split_key(ws, key, key_len, &k, &kl, &times))
    return 1; /* not ours to judge: restored as it is */
  /* Stream time was at least the window's start (the session's end) when
   * the record was written. */
  if (weir_wkey_time(times) < RESERVED_TIME) /* bookkeeping rows are no time */
    weir_window_store_advance(ws, weir_wkey_time(times));
  weir_window_store_saw(ws, weir_wkey_time(key));
  int64_t start = weir_wkey_time(times);
  if (ws->kind == WEIR_STORE_WINDOW && start < RESERVED_TIME && start > ws->db_max_start &&
      !weir_kv_store_in_memory(ws->kv))
    ws->db_max_start = start;
  return weir_window_store_live(ws, row_end(ws, times));
}

/* ------------------------------------------------------------ keys */

typedef struct {
  unsigned char *p;
  size_t len;
  unsigned char small[KEY_INLINE];
} wkey_t;

/* seg | len | key | times[0..n) into k. -1 out of memory or a key over 4 GiB. */
static int wkey_build(wkey_t *k, int64_t seg, const void *key, size_t key_len, const int64_t *times,
                      size_t n) {
  if (key_len > UINT32_MAX - 64)
    return -1;
  k->len = WEIR_WKEY_HEAD + key_len + n * WEIR_WKEY_TIME;
  k->p = k->len <= sizeof k->small ? k->small : malloc(k->len);
  if (!k->p)
    return -1;
  weir_wkey_put_time(k->p, seg);
  put_be32(k->p + WEIR_WKEY_TIME, (uint32_t)key_len);
  if (key_len)
    memcpy(k->p + WEIR_WKEY_HEAD, key, key_len);
  for (size_t i = 0; i < n; i++)
    weir_wkey_put_time(k->p + WEIR_WKEY_HEAD + key_len + i * WEIR_WKEY_TIME, times[i]);
  return 0;
}

static void wkey_done(wkey_t *k) {
  if (k->p != k->small)
    free(k->p);
}

int weir_window_store_put(weir_window_store_t *ws, const void *key, size_t key_len, int64_t start,
                          const void *value, size_t value_len) {
  if (!weir_window_store_live(ws, sat_add(start, ws->size)))
    return 2;
  int64_t seg = weir_window_store_segment(ws, start);
  wkey_t k;
  if (wkey_build(&k, seg, key, key_len, &start, 1))
    return -1;
  int rc = weir_kv_store_put(ws->kv, k.p, k.len, value, value_len);
  wkey_done(&k);
  if (rc >= 0)
    weir_window_store_saw(ws, seg);
  if (rc >= 0 && start < RESERVED_TIME && start > ws->put_max_start)
    ws->put_max_start = start;
  return rc;
}

/* ------------------------------------------------------------ scans */

/* RocksDB's last row is in segment seg: any window starting there or
 * below may be in it. */
static void saw_in_db(weir_window_store_t *ws, int64_t seg) {
  weir_window_store_saw(ws, seg);
  int64_t last = seg >= INT64_MAX / ws->interval - 1 ? INT64_MAX : (seg + 1) * ws->interval - 1;
  if (ws->kind == WEIR_STORE_WINDOW && last > ws->db_max_start)
    ws->db_max_start = last;
}

/* RocksDB's highest segment, once per open: rows a previous run or the
 * restore wrote may lie above anything put since. */
static int ensure_scanned(weir_window_store_t *ws, char *errstr, size_t errstr_size) {
  if (ws->scanned || weir_kv_store_in_memory(ws->kv)) /* in memory: nothing there */
    return 0;
  weir_kv_store_t *kv = ws->kv;
  unsigned char below[WEIR_WKEY_TIME];
  weir_wkey_put_time(below, weir_window_store_segment(ws, RESERVED_TIME));
  weir_state_iter_t *it =
      weir_state_iter_range(weir_kv_store_db(kv), weir_kv_store_name(kv),
                            weir_kv_store_partition(kv), NULL, 0, below, sizeof below);
  const void *k, *v;
  size_t kl, vl;
  int rc = it ? weir_state_iter_last(it, &k, &kl, &v, &vl) : -1;
  if (rc < 0)
    snprintf(errstr, errstr_size, "cannot read store %s: %s", weir_kv_store_name(kv),
             it ? weir_state_iter_error(it) : "out of memory");
  else if (rc > 0 && kl >= WEIR_WKEY_TIME)
    saw_in_db(ws, weir_wkey_time(k));
  weir_state_iter_close(it);
  ws->scanned = rc >= 0;
  return rc < 0 ? -1 : 0;
}

/* Hand each live row of the kv iterator to fn, `key` (if given) only. */
static int scan_iter(weir_window_store_t *ws, weir_kv_iter_t *it, const void *key, size_t key_len,
                     weir_wrow_fn fn, void *opaque, char *errstr, size_t errstr_size) {
  const void *k, *v;
  size_t kl, vl;
  int rc;
  while ((rc = weir_kv_iter_next(it, &k, &kl, &v, &vl)) > 0) {
    const unsigned char *uk, *times;
    size_t ukl;
    if (split_key(ws, k, kl, &uk, &ukl, &times) ||
        (key && (ukl != key_len || (key_len && memcmp(uk, key, key_len) != 0))) ||
        !weir_window_store_live(ws, row_end(ws, times)))
      continue;
    if (fn(opaque, uk, ukl, times, v, vl)) {
      snprintf(errstr, errstr_size, "out of memory reading store %s", weir_kv_store_name(ws->kv));
      return -1;
    }
  }
  if (rc < 0)
    snprintf(errstr, errstr_size, "cannot read store %s: %s", weir_kv_store_name(ws->kv),
             weir_kv_iter_error(it));
  return rc < 0 ? -1 : 0;
}

/* unwritten: read the cache's unwritten entries alone (RocksDB holds
 * nothing the caller wants). */
static int scan_range(weir_window_store_t *ws, const void *key, size_t key_len, int64_t lo,
                      int64_t hi, int unwritten, weir_wrow_fn fn, void *opaque, char *errstr,
                      size_t errstr_size) {
  unsigned char from[WEIR_WKEY_TIME], to[WEIR_WKEY_TIME];
  weir_wkey_put_time(from, lo);
  weir_wkey_put_time(to, hi == INT64_MAX ? hi : hi + 1);
  const void *end = hi == INT64_MAX ? NULL : to;
  weir_kv_iter_t *it = unwritten
                           ? weir_kv_iter_range_unwritten(ws->kv, from, sizeof from, end, sizeof to)
                           : weir_kv_iter_range(ws->kv, from, sizeof from, end, sizeof to);
  if (!it) {
    snprintf(errstr, errstr_size, "out of memory reading store %s", weir_kv_store_name(ws->kv));
    return -1;
  }
  int rc = scan_iter(ws, it, key, key_len, fn, opaque, errstr, errstr_size);
  weir_kv_iter_close(it);
  return rc;
}

static int scan_prefix(weir_window_store_t *ws, const void *key, size_t key_len, int64_t seg,
                       int unwritten, weir_wrow_fn fn, void *opaque, char *errstr,
                       size_t errstr_size) {
  wkey_t k;
  weir_kv_iter_t *it = NULL;
  if (wkey_build(&k, seg, key, key_len, NULL, 0) == 0) {
    it = unwritten ? weir_kv_iter_prefix_unwritten(ws->kv, k.p, k.len)
                   : weir_kv_iter_prefix(ws->kv, k.p, k.len);
    wkey_done(&k);
  }
  if (!it) {
    snprintf(errstr, errstr_size, "out of memory reading store %s", weir_kv_store_name(ws->kv));
    return -1;
  }
  int rc = scan_iter(ws, it, key, key_len, fn, opaque, errstr, errstr_size);
  weir_kv_iter_close(it);
  return rc;
}

static int scan(weir_window_store_t *ws, const void *key, size_t key_len, int64_t seg_lo,
                int64_t seg_hi, int unwritten, weir_wrow_fn fn, void *opaque, char *errstr,
                size_t errstr_size) {
  if (ensure_scanned(ws, errstr, errstr_size))
    return -1;
  if (seg_lo < ws->live_seg)
    seg_lo = ws->live_seg;
  if (seg_hi > ws->max_seg)
    seg_hi = ws->max_seg;
  if (seg_lo > seg_hi)
    return 0;
  if (!key || (uint64_t)(seg_hi - seg_lo) >= MAX_PREFIX_SEGMENTS)
    return scan_range(ws, key, key_len, seg_lo, seg_hi, unwritten, fn, opaque, errstr, errstr_size);
  for (int64_t seg = seg_lo; seg <= seg_hi; seg++)
    if (scan_prefix(ws, key, key_len, seg, unwritten, fn, opaque, errstr, errstr_size))
      return -1;
  return 0;
}

int weir_window_store_scan(weir_window_store_t *ws, const void *key, size_t key_len, int64_t seg_lo,
                           int64_t seg_hi, weir_wrow_fn fn, void *opaque, char *errstr,
                           size_t errstr_size) {
  return scan(ws, key, key_len, seg_lo, seg_hi, 0, fn, opaque, errstr, errstr_size);
}

/* ------------------------------------------------------------ fetch */

typedef struct {
  weir_window_store_t *ws;
  weir_window_iter_t *it;
  int64_t from, to;
} fetch_t;

static int fetch_row(void *opaque, const void *key, size_t key_len, const unsigned char *times,
                     const void *value, size_t value_len) {
  fetch_t *f = opaque;
  int64_t start = weir_wkey_time(times);
  if (start < f->from || start > f->to)
    return 0;
  return weir_window_iter_add(f->it, key, key_len, value, value_len, start,
                              sat_add(start, f->ws->size));
}

/* The windows of f's time range: from the cache alone when they all start
 * after db_max_start, as fetch_one's get does (a stream-stream join fetches
 * just behind and ahead of the record in hand, mostly past what the last
 * commit wrote; making and seeking a RocksDB iterator was most of such a
 * fetch, with the cache's part indexed). */
static int fetch_scan(weir_window_store_t *ws, const void *key, size_t key_len, fetch_t *f,
                      char *errstr, size_t errstr_size) {
  if (ensure_scanned(ws, errstr, errstr_size)) /* db_max_start from RocksDB */
    return -1;
  int unwritten =
      ws->kind == WEIR_STORE_WINDOW && f->from > ws->db_max_start && f->to < RESERVED_TIME;
  return scan(ws, key, key_len, weir_window_store_segment(ws, f->from),
              weir_window_store_segment(ws, f->to), unwritten, fetch_row, f, errstr, errstr_size);
}

/* One window by its exact key: a cache lookup, no RocksDB iterator (the
 * window operator reads each window it updates this way). */
static weir_window_iter_t *fetch_one(weir_window_store_t *ws, const void *key, size_t key_len,
                                     int64_t start, char *errstr, size_t errstr_size) {
  weir_window_iter_t *it = iter_of(ws);
  int64_t end = sat_add(start, ws->size);
  wkey_t k;
  if (!it || wkey_build(&k, weir_window_store_segment(ws, start), key, key_len, &start, 1)) {
    weir_window_iter_close(it);
    snprintf(errstr, errstr_size, "out of memory reading store %s", weir_kv_store_name(ws->kv));
    return NULL;
  }
  const void *v;
  size_t vl;
  int rc = ensure_scanned(ws, errstr, errstr_size);
  if (rc == 0 && weir_window_store_live(ws, end))
    rc = start > ws->db_max_start && start < RESERVED_TIME
             ? weir_kv_store_get_cached(ws->kv, k.p, k.len, &v, &vl)
             : weir_kv_store_get(ws->kv, k.p, k.len, &v, &vl, errstr, errstr_size);
  wkey_done(&k);
  if (rc > 0 && weir_window_iter_add(it, key, key_len, v, vl, start, end))
    rc = -1;
  if (rc < 0) {
    weir_window_iter_close(it);
    return NULL;
  }
  return it;
}

weir_window_iter_t *weir_window_store_fetch(weir_window_store_t *ws, const void *key,
                                            size_t key_len, int64_t time_from, int64_t time_to,
                                            char *errstr, size_t errstr_size) {
  if (time_from == time_to)
    return fetch_one(ws, key, key_len, time_from, errstr, errstr_size);
  fetch_t f = {ws, iter_of(ws), time_from, time_to};
  if (!f.it || time_from > time_to)
    return f.it;
  if (fetch_scan(ws, key, key_len, &f, errstr, errstr_size)) {
    weir_window_iter_close(f.it);
    return NULL;
  }
  weir_window_iter_sort(f.it);
  return f.it;
}

weir_window_iter_t *weir_window_store_fetch_all(weir_window_store_t *ws, int64_t time_from,
                                                int64_t time_to, char *errstr, size_t errstr_size) {
  fetch_t f = {ws, iter_of(ws), time_from, time_to};
  if (!f.it || time_from > time_to)
    return f.it;
  if (fetch_scan(ws, NULL, 0, &f, errstr, errstr_size)) {
    weir_window_iter_close(f.it);
    return NULL;
  }
  weir_window_iter_sort(f.it);
  return f.it;
}

/* ------------------------------------------------------------ iterator */

weir_window_iter_t *weir_window_iter_new(void) {
  weir_window_iter_t *it = malloc(sizeof *it);
  if (it) {
    it->home = NULL;
    it->items = &it->first;
    it->count = it->next = 0;
    it->cap = 1;
  }
  return it;
}

/* An iterator of ws: its spare if it has one. */
static weir_window_iter_t *iter_of(weir_window_store_t *ws) {
  weir_window_iter_t *it = ws->spare ? ws->spare : weir_window_iter_new();
  ws->spare = NULL;
  if (it)
    it->home = ws;
  return it;
}

static int grow_items(weir_window_iter_t *it) {
  size_t cap = it->cap * 2 > 8 ? it->cap * 2 : 8;
  witem_t *grown = it->items == &it->first ? malloc(cap * sizeof *grown)
                                           : realloc(it->items, cap * sizeof *grown);
  if (!grown)
    return -1;
  if (it->items == &it->first)
    grown[0] = it->first;
  it->items = grown;
  it->cap = cap;
  return 0;
}

int weir_window_iter_add(weir_window_iter_t *it, const void *key, size_t key_len, const void *value,
                         size_t value_len, int64_t start, int64_t end) {
  if (it->count == it->cap && grow_items(it))
    return -1;
  char *buf = it->count == 0 && key_len + value_len < INLINE_ITEM ? it->first_buf
                                                                  : malloc(key_len + value_len + 1);
  if (!buf)
    return -1;
  if (key_len)
    memcpy(buf, key, key_len);
  if (value_len)
    memcpy(buf + key_len, value, value_len);
  it->items[it->count++] = (witem_t){buf, key_len, value_len, start, end};
  return 0;
}

static int item_cmp(const void *a, const void *b) {
  const witem_t *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = n ? memcmp(x->buf, y->buf, n) : 0;
  if (c || x->key_len != y->key_len)
    return c ? c : x->key_len < y->key_len ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

void weir_window_iter_sort(weir_window_iter_t *it) {
  if (it->count > 1)
    qsort(it->items, it->count, sizeof *it->items, item_cmp);
}

int weir_window_iter_next(weir_window_iter_t *it, const void **key, size_t *key_len,
                          const void **value, size_t *value_len, int64_t *start, int64_t *end) {
  if (it->next >= it->count)
    return 0;
  const witem_t *x = &it->items[it->next++];
  *key = x->buf;
  *key_len = x->key_len;
  *value = x->buf + x->key_len;
  *value_len = x->value_len;
  *start = x->start;
  *end = x->end;
  return 1;
}

void weir_window_iter_close(weir_window_iter_t *it) {
  if (!it)
    return;
  for (size_t i = 0; i < it->count; i++)
    if (it->items[i].buf != it->first_buf)
      free(it->items[i].buf);
  if (it->items != &it->first)
    free(it->items);
  if (it->home && !it->home->spare) {
    it->items = &it->first;
    it->count = it->next = 0;
    it->cap = 1;
    it->home->spare = it;
    return;
  }
  free(it);
}
