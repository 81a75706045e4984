/* count — the number of records per key, kept in a store:
 *
 *   [operator:counts]
 *   plugin = std
 *   type   = count
 *   input  = words
 *   store  = word-counts      ; [store:word-counts] type = kv
 *
 * The store's values and the forwarded values are the count as an int64,
 * 8 bytes big-endian (Kafka's LongSerializer: value.serde = int64). As in
 * Kafka Streams, records with no key or no value (tombstones) are not
 * counted; `tombstones = true` counts the latter. Emit modes: std_state.h.
 */
#include <stdlib.h>

#include "std_ops.h"
#include "std_state.h"

static const weir_param_def_t count_params[] = {
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("commit"),
    WEIR_PARAM_BOOL("tombstones", "false",
                    "Count records with a null value too (Kafka Streams skips them)"),
    WEIR_PARAM_END,
};

typedef struct count {
  std_keyed_t keyed;
  int tombstones;
  unsigned char out[8]; /* the forwarded value: never the store's bytes */
} count_t;

/* A stored count: exactly 8 bytes, else the store is not ours. */
static int count_decode(weir_ctx_t *ctx, const void *state, size_t len, int64_t *n) {
  if (len != 8) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "the store holds a %zu-byte value for a key; count keeps 8-byte int64 counts "
             "(is the store shared with another operator?)",
             len);
    return WEIR_EFAIL;
  }
  *n = std_i64_decode(state);
  return WEIR_OK;
}

static int count_render(weir_ctx_t *ctx, void *op, const void *state, size_t state_len,
                        const void **out, size_t *out_len) {
  count_t *c = op;
  int64_t n;
  int rc = count_decode(ctx, state, state_len, &n);
  if (rc != WEIR_OK)
    return rc;
  std_i64_encode(n, c->out);
  *out = c->out;
  *out_len = sizeof c->out;
  return WEIR_OK;
}

static int count_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  count_t *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = std_keyed_init(ctx, &c->keyed, "count", count_render, c, errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(c);
    return rc;
  }
  c->tombstones = weir_param_bool(ctx, "tombstones");
  *self = c;
  return WEIR_OK;
}

static int count_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  count_t *c = self;
  if (std_skip_null_key(ctx, rec))
    return WEIR_OK;
  if (!rec->value && !c->tombstones) {
    weir_metric_add(ctx, "skipped.null.value", 1);
    return WEIR_OK;
  }
  const void *old;
  size_t old_len;
  int64_t n = 0;
  int rc = weir_kv_get(c->keyed.store, rec->key, rec->key_len, &old, &old_len);
  if (rc == WEIR_OK)
    rc = count_decode(ctx, old, old_len, &n);
  else if (rc == WEIR_ENOENT)
    rc = WEIR_OK;
  if (rc != WEIR_OK)
    return rc;
  unsigned char state[8];
  std_i64_encode(n == INT64_MAX ? n : n + 1, state);
  rc = weir_kv_put(c->keyed.store, rec->key, rec->key_len, state, sizeof state);
  if (rc < 0)
    return rc;
  return std_keyed_changed(ctx, &c->keyed, rec, state, sizeof state);
}

static int count_flush(weir_ctx_t *ctx, void *self) {
  count_t *c = self;
  return std_keyed_flush(ctx, &c->keyed);
}

static void count_close(weir_ctx_t *ctx, void *self) {
  count_t *c = self;
  std_keyed_free(&c->keyed);
  free(c);
}

const weir_operator_def_t std_count_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "count",
    .doc = "Count records per key in a store (needs store =); forwards (key, int64 BE count); "
           "null keys and tombstones are skipped",
    .params = count_params,
    .init = count_init,
    .process = count_process,
    .close = count_close,
    .flush = count_flush,
};
