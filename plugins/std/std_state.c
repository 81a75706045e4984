/* std_state — store lookup, int64 values and keyed emit for the stateful
 * standard operators. */
#include "std_state.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- store */

int std_store_open(weir_ctx_t *ctx, const char *type, weir_store_t **store, char *errstr,
                   size_t errstr_size) {
  const char *name = weir_param_str(ctx, "store.name");
  if (name && !*name)
    name = NULL;
  if (!WEIR_API_HAS(ctx->api, store_get)) {
    snprintf(errstr, errstr_size, "%s needs state stores, which this host (ABI %u.%u) lacks", type,
             (unsigned)ctx->api->abi_major, (unsigned)ctx->api->abi_minor);
    return WEIR_ENOTSUP;
  }
  *store = weir_store_get(ctx, name);
  if (*store)
    return WEIR_OK;
  if (name)
    snprintf(errstr, errstr_size,
             "store.name: '%s' is not a store of this node: list it in `store =` and add a "
             "[store:%s] section with type = kv",
             name, name);
  else
    snprintf(errstr, errstr_size,
             "%s needs a store: add `store = NAME` and a [store:NAME] section with type = kv",
             type);
  return WEIR_ENOENT;
}

int64_t std_i64_sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b)
    return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b)
    return INT64_MIN;
  return a + b;
}

/* ---------------------------------------------------------------- pending keys */

uint64_t std_hash(const void *key, size_t len) {
  const unsigned char *p = key;
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static int std_pending_rehash(std_pending_t *p, size_t slot_cap) {
  size_t *slots = calloc(slot_cap, sizeof *slots);
  if (!slots)
    return WEIR_ENOMEM;
  for (size_t i = 0; i < p->count; i++) {
    size_t s = (size_t)p->entries[i].hash & (slot_cap - 1);
    while (slots[s])
      s = (s + 1) & (slot_cap - 1);
    slots[s] = i + 1;
  }
  free(p->slots);
  p->slots = slots;
  p->slot_cap = slot_cap;
  return WEIR_OK;
}

/* Room for one more entry, its key bytes, and a load factor <= 1/2. */
static int std_pending_reserve(std_pending_t *p, size_t key_len) {
  if (p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    std_pending_entry_t *e = realloc(p->entries, cap * sizeof *e);
    if (!e)
      return WEIR_ENOMEM;
    p->entries = e;
    p->cap = cap;
  }
  if ((p->count + 1) * 2 > p->slot_cap &&
      std_pending_rehash(p, p->slot_cap ? p->slot_cap * 2 : 32) != WEIR_OK)
    return WEIR_ENOMEM;
  if (key_len > SIZE_MAX - p->keys_used)
    return WEIR_ENOMEM;
  return std_buf_reserve(&p->keys, p->keys_used + key_len);
}

/* The slot holding the key, or the empty slot where it belongs. */
static size_t std_pending_slot(const std_pending_t *p, const void *key, size_t key_len,
                               uint64_t hash) {
  size_t s = (size_t)hash & (p->slot_cap - 1);
  for (; p->slots[s]; s = (s + 1) & (p->slot_cap - 1)) {
    const std_pending_entry_t *e = &p->entries[p->slots[s] - 1];
    if (e->hash == hash && e->key_len == key_len &&
        (key_len == 0 || memcmp(p->keys.data + e->key_off, key, key_len) == 0))
      return s;
  }
  return s;
}

int std_pending_add(std_pending_t *p, const void *key, size_t key_len, int64_t timestamp) {
  uint64_t hash = std_hash(key, key_len);
  if (std_pending_reserve(p, key_len) != WEIR_OK)
    return WEIR_ENOMEM;
  size_t s = std_pending_slot(p, key, key_len, hash);
  if (p->slots[s]) {
    p->entries[p->slots[s] - 1].timestamp = timestamp;
    return WEIR_OK;
  }
  std_pending_entry_t *e = &p->entries[p->count];
  e->key_off = p->keys_used;
  e->key_len = key_len;
  e->hash = hash;
  e->timestamp = timestamp;
  if (key_len)
    memcpy(p->keys.data + p->keys_used, key, key_len);
  p->keys_used += key_len;
  p->slots[s] = ++p->count;
  return WEIR_OK;
}

const void *std_pending_key(const std_pending_t *p, size_t i, size_t *key_len) {
  *key_len = p->entries[i].key_len;
  /* An empty key still needs a non-NULL pointer: NULL means "no key". */
  return p->entries[i].key_len ? (const void *)(p->keys.data + p->entries[i].key_off) : "";
}

void std_pending_clear(std_pending_t *p) {
  if (p->count && p->slots)
    memset(p->slots, 0, p->slot_cap * sizeof *p->slots);
  p->count = 0;
  p->keys_used = 0;
}

void std_pending_free(std_pending_t *p) {
  free(p->entries);
  free(p->slots);
  std_buf_free(&p->keys);
  memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- keyed emit */

int std_keyed_init(weir_ctx_t *ctx, std_keyed_t *k, const char *type, std_render_fn render,
                   void *op, char *errstr, size_t errstr_size) {
  int rc = std_store_open(ctx, type, &k->store, errstr, errstr_size);
  if (rc != WEIR_OK)
    return rc;
  const char *emit = weir_param_str(ctx, "emit");
  k->emit_update = emit && strcmp(emit, "update") == 0;
  int64_t max = weir_param_int(ctx, "emit.max.pending");
  k->max_pending = max > 0 ? (size_t)max : 1;
  k->render = render;
  k->op = op;
  return WEIR_OK;
}

static int std_keyed_forward(weir_ctx_t *ctx, std_keyed_t *k, const void *key, size_t key_len,
                             int64_t timestamp, const void *state, size_t state_len) {
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = key;
  out.key_len = key_len;
  out.timestamp = timestamp;
  if (state) {
    int rc = k->render(ctx, k->op, state, state_len, &out.value, &out.value_len);
    if (rc != WEIR_OK)
      return rc;
  }
  return weir_forward(ctx, &out);
}

int std_keyed_changed(weir_ctx_t *ctx, std_keyed_t *k, const weir_record_t *rec, const void *state,
                      size_t state_len) {
  if (k->emit_update)
    return std_keyed_forward(ctx, k, rec->key, rec->key_len, rec->timestamp, state, state_len);
  if (std_pending_add(&k->pending, rec->key, rec->key_len, rec->timestamp) != WEIR_OK)
    return WEIR_ENOMEM;
  if (k->pending.count < k->max_pending)
    return WEIR_OK;
  weir_metric_add(ctx, "emit.early", 1);
  return std_keyed_flush(ctx, k);
}

/* Forward pending key i with the state the store holds now. */
static int std_keyed_flush_one(weir_ctx_t *ctx, std_keyed_t *k, size_t i) {
  size_t key_len, state_len = 0;
  const void *key = std_pending_key(&k->pending, i, &key_len), *state = NULL;
  int rc = weir_kv_get(k->store, key, key_len, &state, &state_len);
  if (rc == WEIR_ENOENT)
    state = NULL; /* deleted: a tombstone */
  else if (rc < 0)
    return rc;
  else if (!state)
    state = ""; /* an empty value, which is not a tombstone */
  return std_keyed_forward(ctx, k, key, key_len, k->pending.entries[i].timestamp, state, state_len);
}

int std_keyed_flush(weir_ctx_t *ctx, std_keyed_t *k) {
  for (size_t i = 0; i < k->pending.count; i++) {
    int rc = std_keyed_flush_one(ctx, k, i);
    if (rc != WEIR_OK)
      return rc;
  }
  std_pending_clear(&k->pending);
  return WEIR_OK;
}

void std_keyed_free(std_keyed_t *k) {
  std_pending_free(&k->pending);
}

/* ---------------------------------------------------------------- numbers */

void std_format_double(double d, char *buf, size_t size) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, d);
    if (strtod(buf, NULL) == d)
      break;
  }
  /* snprintf and strtod agree on LC_NUMERIC; the output must not depend on it. */
  const char *point = localeconv()->decimal_point;
  if (point && point[0] && point[0] != '.' && !point[1]) {
    char *p = strchr(buf, point[0]);
    if (p)
      *p = '.';
  }
}
