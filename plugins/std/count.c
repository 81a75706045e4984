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
#include "std_keyed_op.h"
#include "std_ops.h"

static const weir_param_def_t count_params[] = {
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("commit"),
    WEIR_PARAM_BOOL("tombstones", "false",
                    "Count records with a null value too (Kafka Streams skips them)"),
    WEIR_PARAM_END,
};

typedef struct count {
  std_keyed_op_t base;
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

/* std_reduce_fn: one more (saturating at INT64_MAX). */
static int count_reduce(weir_ctx_t *ctx, void *op, const weir_record_t *rec, const void *old,
                        size_t old_len, unsigned char *state, size_t *state_len) {
  int64_t n = 0;
  (void)op, (void)rec;
  if (old && count_decode(ctx, old, old_len, &n) != WEIR_OK)
    return WEIR_EFAIL;
  std_i64_encode(n == INT64_MAX ? n : n + 1, state);
  *state_len = 8;
  return WEIR_OK;
}

static int count_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  int rc = std_keyed_op_new(ctx, sizeof(count_t), "count", count_render, self, errstr, errstr_size);
  if (rc == WEIR_OK)
    ((count_t *)*self)->tombstones = weir_param_bool(ctx, "tombstones");
  return rc;
}

static int count_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  count_t *c = self;
  if (std_keyed_op_skip(ctx, rec, c->tombstones))
    return WEIR_OK;
  return std_keyed_op_reduce(ctx, &c->base, rec, count_reduce);
}

const weir_operator_def_t std_count_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "count",
    .doc = "Count records per key in a store (needs store =); forwards (key, int64 BE count); "
           "null keys and tombstones are skipped",
    .params = count_params,
    .init = count_init,
    .process = count_process,
    .close = std_keyed_op_close,
    .flush = std_keyed_op_flush,
};
