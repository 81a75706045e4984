/* aggregate — a running sum, min, max or average per key, kept in a store:
 *
 *   [operator:spend]
 *   plugin   = std
 *   type     = aggregate
 *   input    = orders
 *   store    = spend           ; [store:spend] type = kv
 *   function = sum
 *   field    = order.total     ; unset: the value is an int64 (8 bytes BE)
 *
 * Input: without `field` the value must be an int64, 8 bytes big-endian;
 * with it, the value is JSON and `field` a dotted member path to a number
 * (an empty `field` names the root: the whole value is a JSON number).
 * Anything else is WEIR_EINVAL with a warning (the topology's error policy
 * decides what happens to the record), as is an int64 sum that would
 * overflow (WEIR_ERANGE). Records with no key or no value are skipped, as in
 * Kafka Streams.
 *
 * Output: int64 input: sum/min/max as int64 8 bytes BE, avg as text; JSON
 * input: the number as text, the shortest of %.15g/%.16g/%.17g that reads
 * back exactly (integral values print as integers: "42").
 *
 * Store value (33 bytes): a tag ('i' int64 input, 'd' JSON numbers), then
 * count, sum, min, max as 8-byte big-endian words (int64, or IEEE-754 double
 * bits for 'd'). All four are kept whatever `function` says, so changing
 * the function keeps the state; changing between int64 and `field` does not
 * (such records fail with WEIR_EFAIL: use a new store).
 */
#include <stdlib.h>
#include <string.h>

#include "std_agg.h"
#include "std_keyed_op.h"
#include "std_ops.h"

_Static_assert(STD_AGG_LEN <= STD_KEYED_STATE_MAX, "aggregate state fits std_keyed_op_reduce");

static const weir_param_def_t aggregate_params[] = {
    WEIR_PARAM_("function", WEIR_PARAM_ENUM, WEIR_PARAM_REQUIRED, NULL, 1, 0, "sum|min|max|avg",
                "What to keep per key: the sum, minimum, maximum or average (avg) of the inputs"),
    WEIR_PARAM_STR("field", NULL,
                   "Dotted JSON path of the number in the value, e.g. order.total (unset: the "
                   "value is an int64, 8 bytes big-endian)"),
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("commit"),
    WEIR_PARAM_END,
};

typedef struct aggregate {
  std_keyed_op_t base;
  enum std_agg_fn fn;
  const char *field; /* host-owned until close; NULL: int64 input */
  char out[40];      /* the forwarded value: text, or 8 bytes */
} aggregate_t;

/* The key's state so far (`old`; NULL: none yet, all zero). */
static int agg_load(weir_ctx_t *ctx, const aggregate_t *a, const void *old, size_t old_len,
                    std_agg_t *s) {
  memset(s, 0, sizeof *s);
  int rc = old ? std_agg_decode(old, old_len, a->field != NULL, s) : 0;
  if (rc == 0)
    return WEIR_OK;
  weir_log(ctx, WEIR_LOG_ERROR,
           "the store holds %s for this key, not the state of an aggregate over %s: use a "
           "new store when changing `field`",
           rc > 0 ? "the state of the other input kind" : "a value of another operator",
           a->field ? "a JSON field" : "int64 values");
  return WEIR_EFAIL;
}

/* std_reduce_fn: the input's number read first (a bad value fails before the
 * state is looked at), then added to the state. */
static int agg_reduce(weir_ctx_t *ctx, void *op, const weir_record_t *rec, const void *old,
                      size_t old_len, unsigned char *state, size_t *state_len) {
  aggregate_t *a = op;
  std_agg_t s;
  int64_t ix = 0;
  double dx = 0;
  int rc = std_agg_read(ctx, a->field, rec, &ix, &dx);
  if (rc == WEIR_OK)
    rc = agg_load(ctx, a, old, old_len, &s);
  if (rc == WEIR_OK)
    rc = std_agg_add(ctx, &s, a->field != NULL, ix, dx);
  if (rc != WEIR_OK)
    return rc;
  std_agg_encode(&s, a->field != NULL, state);
  *state_len = STD_AGG_LEN;
  return WEIR_OK;
}

static int agg_render(weir_ctx_t *ctx, void *op, const void *state, size_t state_len,
                      const void **out, size_t *out_len) {
  aggregate_t *a = op;
  std_agg_t s;
  int rc = agg_load(ctx, a, state, state_len, &s);
  if (rc != WEIR_OK)
    return rc;
  std_agg_render(&s, a->fn, a->field != NULL, a->out, out_len);
  *out = a->out;
  return WEIR_OK;
}

/* ---------------------------------------------------------------- operator */

static int aggregate_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  const char *fn = weir_param_str(ctx, "function");
  if (!fn) {
    snprintf(errstr, errstr_size, "function: one of sum, min, max, avg is required");
    return WEIR_EINVAL;
  }
  int rc = std_keyed_op_new(ctx, sizeof(aggregate_t), "aggregate", agg_render, self, errstr,
                            errstr_size);
  if (rc != WEIR_OK)
    return rc;
  aggregate_t *a = *self;
  a->fn = std_agg_parse_fn(fn);
  a->field = weir_param_str(ctx, "field");
  return WEIR_OK;
}

static int aggregate_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  aggregate_t *a = self;
  if (std_keyed_op_skip(ctx, rec, 0))
    return WEIR_OK;
  return std_keyed_op_reduce(ctx, &a->base, rec, agg_reduce);
}

const weir_operator_def_t std_aggregate_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "aggregate",
    .doc = "Running sum/min/max/avg per key of an int64 value or a JSON number field, in a store "
           "(needs store =)",
    .params = aggregate_params,
    .init = aggregate_init,
    .process = aggregate_process,
    .close = std_keyed_op_close,
    .flush = std_keyed_op_flush,
};
