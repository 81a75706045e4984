/* The merged iterator of kv_iter.h: a copy of the cache's unwritten entries
 * in range, which the store hands over in key order from its index (so only
 * those are visited), merged with RocksDB's iterator like two sorted
 * lists. */
#include "state/kv_iter.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  char *key; /* key, then value, in one allocation */
  size_t key_len, value_len;
  int present; /* 0: a delete */
} cached_t;

struct weir_kv_iter {
  weir_state_iter_t *db;
  cached_t *cached;
  size_t count, cap, next;
  /* Bounds while the cache is copied (range: from/to; prefix: from = the
   * prefix). */
  const void *from, *to;
  size_t from_len, to_len;
  int prefix;
  int failed; /* out of memory copying the cache */
  /* RocksDB's current row, read ahead of the merge. */
  int db_has; /* 1 a row, 0 past the end, -1 an error */
  int db_due; /* the row was handed out: advance at the next call */
  const void *db_key, *db_value;
  size_t db_key_len, db_value_len;
};

/* memcmp order, a key that is a prefix of another first (RocksDB's
 * bytewise comparator on the user key). */
static int key_cmp(const void *a, size_t a_len, const void *b, size_t b_len) {
  size_t n = a_len < b_len ? a_len : b_len;
  int c = n ? memcmp(a, b, n) : 0;
  return c ? c : (a_len > b_len) - (a_len < b_len);
}

/* Whether a key at or after the lower bound is still in range. Keys come
 * in order from the lower bound, so the first that is not ends the range:
 * past `to`, or (prefix) past every key starting with the prefix. */
static int below_end(const weir_kv_iter_t *it, const void *key, size_t key_len) {
  if (it->prefix)
    return key_len >= it->from_len && (!it->from_len || memcmp(key, it->from, it->from_len) == 0);
  return !it->to || key_cmp(key, key_len, it->to, it->to_len) < 0;
}

/* Copy one entry; non-zero stops the visit (past the range, or out of
 * memory). */
static int collect(void *opaque, const void *key, size_t key_len, const void *value,
                   size_t value_len) {
  weir_kv_iter_t *it = opaque;
  if (!below_end(it, key, key_len))
    return 1;
  if (it->count == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 16;
    cached_t *grown = realloc(it->cached, cap * sizeof *grown);
    if (!grown) {
      it->failed = 1;
      return 1;
    }
    it->cached = grown;
    it->cap = cap;
  }
  size_t vlen = value ? value_len : 0;
  char *copy = malloc(key_len + vlen + 1);
  if (!copy) {
    it->failed = 1;
    return 1;
  }
  if (key_len)
    memcpy(copy, key, key_len);
  if (vlen)
    memcpy(copy + key_len, value, vlen);
  it->cached[it->count++] = (cached_t){copy, key_len, vlen, value != NULL};
  return 0;
}

static void db_advance(weir_kv_iter_t *it) {
  int rc =
      weir_state_iter_next(it->db, &it->db_key, &it->db_key_len, &it->db_value, &it->db_value_len);
  it->db_has = rc;
}

/* with_db 0: the cache's part alone (db_has stays 0: past RocksDB's end). */
static weir_kv_iter_t *open_iter(weir_kv_store_t *s, weir_kv_iter_t *it, int with_db) {
  if ((with_db && !it->db) ||
      weir_kv_store_unwritten_from(s, it->from, it->from_len, collect, it) != 0 || it->failed) {
    weir_kv_iter_close(it);
    return NULL;
  }
  it->from = it->to = NULL; /* the caller's bounds are not kept */
  if (with_db)
    db_advance(it);
  return it;
}

static weir_kv_iter_t *range_iter(weir_kv_store_t *s, const void *from, size_t from_len,
                                  const void *to, size_t to_len, int with_db) {
  weir_kv_iter_t *it = calloc(1, sizeof *it);
  if (!it)
    return NULL;
  *it = (weir_kv_iter_t){.from = from, .from_len = from_len, .to = to, .to_len = to_len};
  if (with_db)
    it->db = weir_state_iter_range(weir_kv_store_db(s), weir_kv_store_name(s),
                                   weir_kv_store_partition(s), from, from_len, to, to_len);
  return open_iter(s, it, with_db);
}

static weir_kv_iter_t *prefix_iter(weir_kv_store_t *s, const void *prefix, size_t prefix_len,
                                   int with_db) {
  weir_kv_iter_t *it = calloc(1, sizeof *it);
  if (!it)
    return NULL;
  *it = (weir_kv_iter_t){.from = prefix, .from_len = prefix ? prefix_len : 0, .prefix = 1};
  if (with_db)
    it->db = weir_state_iter_prefix(weir_kv_store_db(s), weir_kv_store_name(s),
                                    weir_kv_store_partition(s), prefix, it->from_len);
  return open_iter(s, it, with_db);
}

weir_kv_iter_t *weir_kv_iter_range(weir_kv_store_t *s, const void *from, size_t from_len,
                                   const void *to, size_t to_len) {
  return range_iter(s, from, from_len, to, to_len, 1);
}

weir_kv_iter_t *weir_kv_iter_prefix(weir_kv_store_t *s, const void *prefix, size_t prefix_len) {
  return prefix_iter(s, prefix, prefix_len, 1);
}

weir_kv_iter_t *weir_kv_iter_range_unwritten(weir_kv_store_t *s, const void *from, size_t from_len,
                                             const void *to, size_t to_len) {
  return range_iter(s, from, from_len, to, to_len, 0);
}

weir_kv_iter_t *weir_kv_iter_prefix_unwritten(weir_kv_store_t *s, const void *prefix,
                                              size_t prefix_len) {
  return prefix_iter(s, prefix, prefix_len, 0);
}

static int hand_out(const void *k, size_t kl, const void *v, size_t vl, const void **key,
                    size_t *key_len, const void **value, size_t *value_len) {
  *key = k;
  *key_len = kl;
  *value = v;
  *value_len = vl;
  return 1;
}

int weir_kv_iter_next(weir_kv_iter_t *it, const void **key, size_t *key_len, const void **value,
                      size_t *value_len) {
  if (it->db_due) { /* the row handed out last is no longer in use */
    it->db_due = 0;
    db_advance(it);
  }
  for (;;) {
    if (it->db_has < 0)
      return -1;
    const cached_t *c = it->next < it->count ? &it->cached[it->next] : NULL;
    if (!c && !it->db_has)
      return 0;
    int cmp = !c ? -1 : !it->db_has ? 1 : key_cmp(it->db_key, it->db_key_len, c->key, c->key_len);
    if (cmp < 0) { /* RocksDB's row, not overridden */
      it->db_due = 1;
      return hand_out(it->db_key, it->db_key_len, it->db_value, it->db_value_len, key, key_len,
                      value, value_len);
    }
    if (cmp == 0)
      db_advance(it); /* the cache's entry replaces RocksDB's row */
    it->next++;
    if (c->present)
      return hand_out(c->key, c->key_len, c->key + c->key_len, c->value_len, key, key_len, value,
                      value_len);
  }
}

const char *weir_kv_iter_error(const weir_kv_iter_t *it) {
  return it->failed ? "out of memory" : it->db ? weir_state_iter_error(it->db) : "";
}

void weir_kv_iter_close(weir_kv_iter_t *it) {
  if (!it)
    return;
  for (size_t i = 0; i < it->count; i++)
    free(it->cached[i].key);
  free(it->cached);
  weir_state_iter_close(it->db);
  free(it);
}
