/* kv_store — the per-task write cache over state_db.
 *
 * An open-addressing hash table (linear probing, backward-shift deletion,
 * grown at 70% load) of entries that each hold key and value in one
 * allocation. An entry is DIRTY (not yet flushed), FLUSHED (handed to a
 * batch not yet in RocksDB: must stay readable) or CLEAN (RocksDB has it:
 * evictable). Dirty entries and flushed ones are also listed, so flush and
 * batch_written touch only them; an entry knows its index in each list, so a
 * realloc that moves it can fix the lists in O(1).
 *
 * Range reads need the dirty and flushed entries in key order: the first
 * one builds an ordered index of them (key_index.h), which the store then
 * keeps exact through every change of state, so each later read costs
 * O(log n + entries in range) rather than a pass over all of them (a
 * stream-stream join reads two ranges a record: with a 1 s commit interval
 * that pass visited tens of thousands of entries and was most of its CPU).
 * A store never range-read has no index and pays nothing for it. */
#include "state/kv_store.h"

#include <stdlib.h>
#include <string.h>

#include "state/key_index.h"

enum { ST_CLEAN, ST_DIRTY, ST_FLUSHED };
enum {
  F_PRESENT = 1, /* a value; else a tombstone or a cached "absent" */
  F_REF = 2,     /* used since the last eviction pass (second chance) */
  F_PENDING = 4  /* listed in s->pending */
};
enum { MIN_CAP = 16 };

typedef struct kv_entry {
  uint32_t key_len;
  uint32_t val_len;
  uint32_t val_cap;
  uint32_t dirty_idx;   /* in s->dirty while ST_DIRTY */
  uint32_t pending_idx; /* in s->pending while F_PENDING */
  uint32_t index_id;    /* in s->index while not ST_CLEAN (once there is an index); 0: not */
  uint8_t state;
  uint8_t flags;
  /* Key, padded to 8 bytes, then value: values are 8-byte aligned, so an
   * operator may read a counter in place. */
  uint64_t data[];
} kv_entry_t;

typedef struct {
  uint64_t hash;
  kv_entry_t *e; /* NULL = empty slot */
} kv_slot_t;

typedef struct {
  kv_entry_t **v;
  size_t n, cap;
} entry_list_t;

struct weir_kv_store {
  weir_state_db_t *db;
  char *name;
  int32_t partition;
  weir_cache_budget_t *budget;
  kv_slot_t *slots;
  size_t cap, count; /* cap is a power of two */
  size_t last_slot;  /* slot of the last key used: a get then a put of one key hash once */
  int in_memory;     /* backend = memory: every row here, none in RocksDB */
  entry_list_t dirty, pending;
  size_t bytes;  /* this store's share of budget->used */
  void *scratch; /* a value read while the budget was full: not cached */
  /* The dirty and flushed entries by key, built by the first range read;
   * NULL until then. */
  weir_key_index_t *index;
};

/* ------------------------------------------------------------ hashing */

static uint64_t rotl64(uint64_t x, int r) {
  return x << r | x >> (64 - r);
}

/* The murmur3/splitmix64 finaliser: every input bit reaches every output
 * bit, so the low bits used as the slot index are well mixed. */
static uint64_t fmix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint64_t load64(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, 8); /* a fixed size: compiled to one load */
  return w;
}

static uint64_t load32(const unsigned char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

static uint64_t hash_step(uint64_t h, uint64_t w) {
  return rotl64(h ^ (w * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
}

/* Eight bytes per step with one multiply (murmur-style), then fmix64. The
 * tail is read as overlapping whole words (as wyhash does) rather than byte
 * by byte: a few nanoseconds for the short keys stores see. The length is
 * mixed in first, so overlapping reads do not make keys collide. */
static uint64_t hash_key(const void *key, size_t len) {
  const unsigned char *p = key;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0x87c37b91114253d5ULL);
  if (len >= 8) {
    const unsigned char *last = p + len - 8;
    for (; p < last; p += 8)
      h = hash_step(h, load64(p));
    h = hash_step(h, load64(last));
  } else if (len >= 4) {
    h = hash_step(h, load32(p) << 32 | load32(p + len - 4));
  } else if (len > 0) {
    h = hash_step(h, (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1]);
  }
  return fmix64(h);
}

/* memcmp() == 0 without a libc call for short keys, the same way. */
static int key_eq(const unsigned char *a, const unsigned char *b, size_t len) {
  if (len >= 8) {
    for (size_t i = 0; i + 8 < len; i += 8)
      if (load64(a + i) != load64(b + i))
        return 0;
    return load64(a + len - 8) == load64(b + len - 8);
  }
  if (len >= 4)
    return load32(a) == load32(b) && load32(a + len - 4) == load32(b + len - 4);
  for (size_t i = 0; i < len; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

/* ------------------------------------------------------------ entries */

static size_t pad8(size_t n) {
  return (n + 7) & ~(size_t)7;
}

static char *entry_key(kv_entry_t *e) {
  return (char *)e->data;
}
static char *entry_value(kv_entry_t *e) {
  return (char *)e->data + pad8(e->key_len);
}

static size_t entry_alloc_size(size_t key_len, size_t val_cap) {
  return sizeof(kv_entry_t) + pad8(key_len) + val_cap;
}

/* What an entry costs the budget: what it holds plus its share of the
 * table and the allocator (see WEIR_KV_ENTRY_OVERHEAD). */
static size_t entry_bytes(const kv_entry_t *e) {
  return (size_t)e->key_len + e->val_cap + WEIR_KV_ENTRY_OVERHEAD;
}

static void set_value(kv_entry_t *e, const void *value, size_t value_len) {
  if (value) {
    if (value_len)
      memmove(entry_value(e), value, value_len); /* may be a value of this store */
    e->val_len = (uint32_t)value_len;
    e->flags |= F_PRESENT;
  } else {
    e->val_len = 0;
    e->flags &= (uint8_t)~F_PRESENT;
  }
}

static kv_entry_t *entry_new(const void *key, size_t key_len, const void *value, size_t value_len) {
  size_t cap = value ? value_len : 0;
  kv_entry_t *e = malloc(entry_alloc_size(key_len, cap));
  if (!e)
    return NULL;
  memset(e, 0, sizeof *e);
  e->key_len = (uint32_t)key_len;
  e->val_cap = (uint32_t)cap;
  if (key_len)
    memcpy(entry_key(e), key, key_len);
  set_value(e, value, value_len);
  return e;
}

static int entry_result(kv_entry_t *e, const void **value, size_t *value_len) {
  if (!(e->flags & F_PRESENT))
    return 0;
  *value = entry_value(e);
  *value_len = e->val_len;
  return 1;
}

/* ------------------------------------------------------------ budget */

static void account(weir_kv_store_t *s, long long delta) {
  s->bytes = (size_t)((long long)s->bytes + delta);
  if (s->budget)
    atomic_fetch_add_explicit(&s->budget->used, delta, memory_order_relaxed);
}

static int over_budget(const weir_kv_store_t *s, long long extra) {
  return s->budget &&
         atomic_load_explicit(&s->budget->used, memory_order_relaxed) + extra > s->budget->max;
}

/* ------------------------------------------------------------ lists */

static int list_reserve(entry_list_t *l, size_t n) {
  if (n <= l->cap)
    return 0;
  size_t cap = l->cap ? l->cap : 16;
  while (cap < n)
    cap *= 2;
  kv_entry_t **v = realloc(l->v, cap * sizeof *v);
  if (!v)
    return -1;
  l->v = v;
  l->cap = cap;
  return 0;
}

/* ------------------------------------------------------------ index */

/* e became unwritten (it was clean or new): into the index, if there is
 * one (room reserved first). */
static void index_add(weir_kv_store_t *s, kv_entry_t *e) {
  if (!s->index || e->index_id)
    return;
  e->index_id = weir_key_index_insert(s->index, entry_key(e), e->key_len);
  account(s, WEIR_KEY_INDEX_NODE_BYTES);
}

/* e is written (clean) or dropped: out of the index (an in-memory store
 * indexes every entry, so only a drop takes one out). */
static void index_del(weir_kv_store_t *s, kv_entry_t *e) {
  if (!e->index_id)
    return;
  weir_key_index_remove(s->index, e->index_id);
  e->index_id = 0;
  account(s, -WEIR_KEY_INDEX_NODE_BYTES);
}

/* The first range read: index every unwritten entry (in memory: every
 * entry). -1 out of memory (no index, nothing changed). */
static int index_build(weir_kv_store_t *s) {
  if (s->index)
    return 0;
  weir_key_index_t *x = weir_key_index_new();
  size_t n = s->in_memory ? s->count : s->dirty.n + s->pending.n;
  if (!x || weir_key_index_reserve(x, n) != 0) {
    weir_key_index_free(x);
    return -1;
  }
  s->index = x;
  if (s->in_memory) {
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i].e)
        index_add(s, s->slots[i].e);
    return 0;
  }
  for (size_t i = 0; i < s->dirty.n; i++)
    index_add(s, s->dirty.v[i]);
  /* A pending entry dirtied again was added from the dirty list. */
  for (size_t i = 0; i < s->pending.n; i++)
    if (s->pending.v[i]->state == ST_FLUSHED)
      index_add(s, s->pending.v[i]);
  return 0;
}

/* ------------------------------------------------------------ states */

/* Callers reserve first: marking dirty never fails half-way through a put. */
static void mark_dirty(weir_kv_store_t *s, kv_entry_t *e) {
  e->flags |= F_REF;
  if (e->state == ST_DIRTY)
    return;
  if (e->state == ST_CLEAN)
    index_add(s, e);
  e->state = ST_DIRTY;
  e->dirty_idx = (uint32_t)s->dirty.n;
  s->dirty.v[s->dirty.n++] = e;
}

static void mark_flushed(weir_kv_store_t *s, kv_entry_t *e) {
  e->state = ST_FLUSHED;
  if (e->flags & F_PENDING)
    return;
  e->flags |= F_PENDING;
  e->pending_idx = (uint32_t)s->pending.n;
  s->pending.v[s->pending.n++] = e;
}

/* ------------------------------------------------------------ table */

/* The slot holding key (*found = 1) or the empty slot where it belongs. */
static size_t find_slot(const weir_kv_store_t *s, uint64_t h, const void *key, size_t key_len,
                        int *found) {
  size_t mask = s->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    kv_entry_t *e = s->slots[i].e;
    if (!e) {
      *found = 0;
      return i;
    }
    if (s->slots[i].hash == h && e->key_len == key_len &&
        key_eq((const unsigned char *)entry_key(e), key, key_len)) {
      *found = 1;
      return i;
    }
  }
}

/* Whether key is the one in s->last_slot. Keys are unique in the table, so
 * equal keys mean this is the entry; removals and resizes that move entries
 * only make this miss. */
static int last_slot_is(const weir_kv_store_t *s, const void *key, size_t key_len) {
  if (s->last_slot >= s->cap)
    return 0;
  kv_entry_t *e = s->slots[s->last_slot].e;
  return e && e->key_len == key_len && key_eq((const unsigned char *)entry_key(e), key, key_len);
}

/* The slot of key, or the empty slot where it belongs (*h is then its
 * hash; it is only computed when needed). */
static size_t lookup(weir_kv_store_t *s, const void *key, size_t key_len, uint64_t *h, int *found) {
  if (last_slot_is(s, key, key_len)) {
    *found = 1;
    return s->last_slot;
  }
  *h = hash_key(key, key_len);
  size_t slot = find_slot(s, *h, key, key_len, found);
  if (*found)
    s->last_slot = slot;
  return slot;
}

static int table_resize(weir_kv_store_t *s, size_t cap) {
  kv_slot_t *slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < s->cap; i++) {
    if (!s->slots[i].e)
      continue;
    size_t j = s->slots[i].hash & (cap - 1);
    while (slots[j].e)
      j = (j + 1) & (cap - 1);
    slots[j] = s->slots[i];
  }
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return 0;
}

/* Backward-shift deletion: later entries of the probe run move up, so no
 * tombstone slots accumulate and lookups stay short. */
static void slot_remove(weir_kv_store_t *s, size_t i) {
  size_t mask = s->cap - 1;
  for (size_t j = (i + 1) & mask; s->slots[j].e; j = (j + 1) & mask) {
    size_t home = s->slots[j].hash & mask;
    /* j may move to i when i lies on its probe path: home..j. */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      s->slots[i] = s->slots[j];
      i = j;
    }
  }
  s->slots[i].e = NULL;
  s->count--;
}

/* Inserts a new entry for a key known to be absent; slot is where
 * find_slot said it belongs. */
static kv_entry_t *table_insert(weir_kv_store_t *s, uint64_t h, size_t slot, const void *key,
                                size_t key_len, const void *value, size_t value_len) {
  int found;
  if ((s->count + 1) * 10 > s->cap * 7) {
    if (table_resize(s, s->cap * 2) != 0)
      return NULL;
    slot = find_slot(s, h, key, key_len, &found);
  }
  kv_entry_t *e = entry_new(key, key_len, value, value_len);
  if (!e)
    return NULL;
  s->slots[slot].hash = h;
  s->slots[slot].e = e;
  s->count++;
  s->last_slot = slot;
  account(s, (long long)entry_bytes(e));
  return e;
}

/* The entry moved (realloc): point the slot and the lists at it again. */
static void relink(weir_kv_store_t *s, size_t slot, kv_entry_t *e) {
  s->slots[slot].e = e;
  if (e->index_id)
    weir_key_index_move(s->index, e->index_id, entry_key(e));
  if (e->state == ST_DIRTY)
    s->dirty.v[e->dirty_idx] = e;
  if (e->flags & F_PENDING)
    s->pending.v[e->pending_idx] = e;
}

/* Sets the value of the entry in `slot`, growing it (by half at least, so
 * a growing value does not realloc on every put) when it does not fit. */
static kv_entry_t *entry_update(weir_kv_store_t *s, size_t slot, const void *value,
                                size_t value_len) {
  kv_entry_t *e = s->slots[slot].e;
  if (value && value_len > e->val_cap) {
    size_t old_cap = e->val_cap;
    size_t cap = old_cap + old_cap / 2;
    if (cap < value_len || cap > UINT32_MAX)
      cap = value_len;
    kv_entry_t *n = realloc(e, entry_alloc_size(e->key_len, cap));
    if (!n)
      return NULL;
    n->val_cap = (uint32_t)cap;
    account(s, (long long)(cap - old_cap));
    relink(s, slot, n);
    e = n;
  }
  set_value(e, value, value_len);
  return e;
}

/* ------------------------------------------------------------ eviction */

static void drop_at(weir_kv_store_t *s, size_t slot) {
  kv_entry_t *e = s->slots[slot].e;
  index_del(s, e);
  account(s, -(long long)entry_bytes(e));
  free(e);
  slot_remove(s, slot);
}

/* One sweep over the table dropping clean entries: with all = 0 only those
 * not used since the previous sweep (second chance), clearing the mark of
 * the others. slot_remove refills slot i, so i is examined again; an entry
 * that wraps around from the start may be seen twice, which only makes
 * the sweep a little more eager. */
static void evict_pass(weir_kv_store_t *s, int all) {
  for (size_t i = 0; i < s->cap;) {
    kv_entry_t *e = s->slots[i].e;
    if (e && e->state == ST_CLEAN && (all || !(e->flags & F_REF))) {
      drop_at(s, i);
      continue;
    }
    if (e)
      e->flags &= (uint8_t)~F_REF;
    i++;
  }
}

/* Give back the slots of a table that eviction left mostly empty. */
static void maybe_shrink(weir_kv_store_t *s) {
  size_t cap = s->cap;
  while (cap > MIN_CAP && s->count * 8 < cap)
    cap /= 2;
  if (cap != s->cap)
    table_resize(s, cap); /* on failure the bigger table simply stays */
}

static void evict(weir_kv_store_t *s) {
  evict_pass(s, 0);
  if (over_budget(s, 0))
    evict_pass(s, 1);
  maybe_shrink(s);
}

/* ------------------------------------------------------------ public API */

weir_kv_store_t *weir_kv_store_new(weir_state_db_t *db, const char *store, int32_t partition,
                                   weir_cache_budget_t *budget) {
  if (!db || !store || strlen(store) > UINT16_MAX)
    return NULL;
  weir_kv_store_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->db = db;
  s->partition = partition;
  s->budget = budget;
  s->name = strdup(store);
  s->slots = calloc(MIN_CAP, sizeof *s->slots);
  s->cap = MIN_CAP;
  if (!s->name || !s->slots) {
    weir_kv_store_free(s);
    return NULL;
  }
  return s;
}

void weir_kv_store_free(weir_kv_store_t *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->cap; i++)
    free(s->slots[i].e);
  account(s, -(long long)s->bytes);
  weir_key_index_free(s->index);
  free(s->slots);
  free(s->dirty.v);
  free(s->pending.v);
  free(s->scratch);
  free(s->name);
  free(s);
}

/* Not cached: read RocksDB, and cache the answer (a value or "absent") when
 * the budget has room for it; else hand it out from s->scratch. */
static int get_miss(weir_kv_store_t *s, uint64_t h, size_t slot, const void *key, size_t key_len,
                    const void **value, size_t *value_len, char *errstr, size_t errstr_size) {
  void *v = NULL;
  size_t n = 0;
  if (s->in_memory) /* RocksDB holds none of its rows */
    return 0;
  int rc =
      weir_state_db_get(s->db, s->name, s->partition, key, key_len, &v, &n, errstr, errstr_size);
  if (rc < 0)
    return -1;
  long long need = (long long)(key_len + n + WEIR_KV_ENTRY_OVERHEAD);
  kv_entry_t *e = over_budget(s, need) ? NULL : table_insert(s, h, slot, key, key_len, v, n);
  if (e) {
    /* No F_REF yet: an entry earns its second chance by a hit. */
    free(v);
    return entry_result(e, value, value_len);
  }
  free(s->scratch);
  s->scratch = v;
  *value = v;
  *value_len = n;
  return rc;
}

int weir_kv_store_get(weir_kv_store_t *s, const void *key, size_t key_len, const void **value,
                      size_t *value_len, char *errstr, size_t errstr_size) {
  int found;
  uint64_t h = 0;
  if (!key)
    key = "";
  size_t slot = lookup(s, key, key_len, &h, &found);
  if (!found)
    return get_miss(s, h, slot, key, key_len, value, value_len, errstr, errstr_size);
  kv_entry_t *e = s->slots[slot].e;
  e->flags |= F_REF;
  return entry_result(e, value, value_len);
}

int weir_kv_store_get_cached(weir_kv_store_t *s, const void *key, size_t key_len,
                             const void **value, size_t *value_len) {
  int found;
  uint64_t h = 0;
  size_t slot = lookup(s, key ? key : "", key_len, &h, &found);
  if (!found)
    return 0;
  kv_entry_t *e = s->slots[slot].e;
  e->flags |= F_REF;
  return entry_result(e, value, value_len);
}

/* A write's lookup: *key made "" when NULL; SIZE_MAX when the key or
 * value is longer than an entry holds. */
static size_t write_lookup(weir_kv_store_t *s, const void **key, size_t key_len, size_t value_len,
                           uint64_t *h, int *found) {
  if (!*key)
    *key = "";
  if (key_len > UINT32_MAX || value_len > UINT32_MAX)
    return SIZE_MAX;
  return lookup(s, *key, key_len, h, found);
}

int weir_kv_store_put(weir_kv_store_t *s, const void *key, size_t key_len, const void *value,
                      size_t value_len) {
  int found;
  uint64_t h = 0;
  size_t slot = write_lookup(s, &key, key_len, value_len, &h, &found);
  if (slot == SIZE_MAX)
    return -1;
  /* Room in the dirty list and the index before anything changes: a put
   * fails whole. */
  int listed = found && s->slots[slot].e->state == ST_DIRTY;
  if (!listed && list_reserve(&s->dirty, s->dirty.n + 1) != 0)
    return -1;
  if (s->index && weir_key_index_reserve(s->index, 1) != 0)
    return -1;
  kv_entry_t *e = found ? entry_update(s, slot, value, value_len)
                        : table_insert(s, h, slot, key, key_len, value, value_len);
  if (!e)
    return -1;
  mark_dirty(s, e);
  return over_budget(s, 0) ? 1 : 0;
}

/* A flush stopped at dirty entry `stop` hands over nothing: the entries
 * before it are dirty again (still listed there) and will be produced and
 * batched again. The caller may give up on the batch after a failure;
 * left flushed, they would be cleaned (and evicted) by the batch_written
 * of a later batch that does not hold them, and the next read would get
 * RocksDB's older value. Their pending mark stays: batch_written skips an
 * entry that is not flushed. */
static void unflush(kv_entry_t **v, size_t stop) {
  for (size_t i = 0; i < stop; i++)
    v[i]->state = ST_DIRTY;
}

static int entry_key_cmp(const void *a, const void *b) {
  kv_entry_t *x = *(kv_entry_t *const *)a, *y = *(kv_entry_t *const *)b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = n ? memcmp(entry_key(x), entry_key(y), n) : 0;
  return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Key order, for RocksDB: its memtable's skiplist starts each insert from
 * where the previous one went, so a batch of sorted keys costs a few
 * comparisons a key where scattered keys cost a full search each
 * (callgrind: most of a windowed count's commit). */
static void sort_dirty(weir_kv_store_t *s) {
  if (s->dirty.n > 1)
    qsort(s->dirty.v, s->dirty.n, sizeof *s->dirty.v, entry_key_cmp);
  for (size_t i = 0; i < s->dirty.n; i++)
    s->dirty.v[i]->dirty_idx = (uint32_t)i;
}

int weir_kv_store_flush(weir_kv_store_t *s, weir_state_batch_t *batch, weir_kv_flush_fn fn,
                        void *opaque) {
  if (list_reserve(&s->pending, s->pending.n + s->dirty.n) != 0)
    return -1;
  sort_dirty(s);
  for (size_t i = 0; i < s->dirty.n; i++) {
    kv_entry_t *e = s->dirty.v[i];
    const void *v = (e->flags & F_PRESENT) ? entry_value(e) : NULL;
    int rc;
    if (fn && (rc = fn(opaque, entry_key(e), e->key_len, v, e->val_len)) != 0) {
      unflush(s->dirty.v, i);
      return rc;
    }
    if (s->in_memory)
      ; /* its changelog is its only copy */
    else if (v)
      weir_state_batch_put(batch, s->name, s->partition, entry_key(e), e->key_len, v, e->val_len);
    else
      weir_state_batch_delete(batch, s->name, s->partition, entry_key(e), e->key_len);
    mark_flushed(s, e);
  }
  s->dirty.n = 0;
  return 0;
}

/* An in-memory store's delete, written: nothing below it to hide, so the
 * entry goes. */
static void drop_entry(weir_kv_store_t *s, kv_entry_t *e) {
  int found;
  size_t slot = find_slot(s, hash_key(entry_key(e), e->key_len), entry_key(e), e->key_len, &found);
  if (found)
    drop_at(s, slot);
}

void weir_kv_store_batch_written(weir_kv_store_t *s) {
  for (size_t i = 0; i < s->pending.n; i++) {
    kv_entry_t *e = s->pending.v[i];
    e->flags &= (uint8_t)~F_PENDING;
    if (e->state != ST_FLUSHED) /* written again since: still dirty */
      continue;
    e->state = ST_CLEAN;
    if (!s->in_memory)
      index_del(s, e);
    else if (!(e->flags & F_PRESENT))
      drop_entry(s, e);
  }
  s->pending.n = 0;
  if (over_budget(s, 0))
    evict(s);
}

static int key_below(const kv_entry_t *e, const void *bound, size_t bound_len) {
  kv_entry_t *m = (kv_entry_t *)e;
  size_t n = e->key_len < bound_len ? e->key_len : bound_len;
  int c = n ? memcmp(entry_key(m), bound, n) : 0;
  return c < 0 || (c == 0 && e->key_len < bound_len);
}

static int in_range(const kv_entry_t *e, const void *from, size_t from_len, const void *to,
                    size_t to_len) {
  return (!from || !key_below(e, from, from_len)) && key_below(e, to, to_len);
}

/* Keep the list's entries outside the range, in order, fixing the indices
 * they know. */
static void list_filter(entry_list_t *l, int dirty, const void *from, size_t from_len,
                        const void *to, size_t to_len) {
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++) {
    kv_entry_t *e = l->v[i];
    if (in_range(e, from, from_len, to, to_len))
      continue;
    if (dirty)
      e->dirty_idx = (uint32_t)n;
    else
      e->pending_idx = (uint32_t)n;
    l->v[n++] = e;
  }
  l->n = n;
}

void weir_kv_store_forget_range(weir_kv_store_t *s, const void *from, size_t from_len,
                                const void *to, size_t to_len) {
  list_filter(&s->dirty, 1, from, from_len, to, to_len);
  list_filter(&s->pending, 0, from, from_len, to, to_len);
  /* As evict_pass: slot_remove refills slot i, so i is examined again. */
  for (size_t i = 0; i < s->cap;) {
    kv_entry_t *e = s->slots[i].e;
    if (e && in_range(e, from, from_len, to, to_len)) {
      drop_at(s, i);
      continue;
    }
    i++;
  }
  s->last_slot = SIZE_MAX;
  maybe_shrink(s);
}

void weir_kv_store_keep_in_memory(weir_kv_store_t *s) {
  s->in_memory = 1;
  s->budget = NULL; /* before its first use: it has counted nothing there */
}

int weir_kv_store_in_memory(const weir_kv_store_t *s) {
  return s->in_memory;
}

int weir_kv_store_restore(weir_kv_store_t *s, const void *key, size_t key_len, const void *value,
                          size_t value_len) {
  int found;
  uint64_t h = 0;
  size_t slot = write_lookup(s, &key, key_len, value_len, &h, &found);
  if (slot == SIZE_MAX)
    return -1;
  if (!value) {
    if (found)
      drop_at(s, slot);
    return 0;
  }
  if (!found && s->index && weir_key_index_reserve(s->index, 1) != 0)
    return -1;
  kv_entry_t *e = found ? entry_update(s, slot, value, value_len)
                        : table_insert(s, h, slot, key, key_len, value, value_len);
  if (!e)
    return -1;
  if (s->in_memory)
    index_add(s, e);
  return 0;
}

size_t weir_kv_store_dirty_count(const weir_kv_store_t *s) {
  return s->dirty.n;
}
size_t weir_kv_store_cached_bytes(const weir_kv_store_t *s) {
  return s->bytes;
}

/* The entry whose key bytes are at `key` (the index hands out keys). */
static kv_entry_t *entry_of_key(const void *key) {
  return (kv_entry_t *)((const char *)key - offsetof(kv_entry_t, data));
}

int weir_kv_store_unwritten_from(weir_kv_store_t *s, const void *from, size_t from_len,
                                 weir_kv_visit_fn fn, void *opaque) {
  if (index_build(s) != 0)
    return -1;
  for (uint32_t id = weir_key_index_seek(s->index, from, from_len); id;
       id = weir_key_index_next(s->index, id)) {
    size_t key_len;
    kv_entry_t *e = entry_of_key(weir_key_index_key(s->index, id, &key_len));
    if (fn(opaque, entry_key(e), e->key_len, (e->flags & F_PRESENT) ? entry_value(e) : NULL,
           e->val_len))
      break;
  }
  return 0;
}

weir_state_db_t *weir_kv_store_db(const weir_kv_store_t *s) {
  return s->db;
}

const char *weir_kv_store_name(const weir_kv_store_t *s) {
  return s->name;
}
int32_t weir_kv_store_partition(const weir_kv_store_t *s) {
  return s->partition;
}
