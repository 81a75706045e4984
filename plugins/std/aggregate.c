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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <weir/json.h>

#include "std_keyed_op.h"
#include "std_ops.h"

#define AGG_STATE_LEN 33
_Static_assert(AGG_STATE_LEN <= STD_KEYED_STATE_MAX, "aggregate state fits std_keyed_op_reduce");

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

enum agg_fn { AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG };

typedef struct agg_state {
  int64_t count;
  int64_t isum, imin, imax; /* tag 'i' */
  double dsum, dmin, dmax;  /* tag 'd' */
} agg_state_t;

typedef struct aggregate {
  std_keyed_op_t base;
  enum agg_fn fn;
  const char *field; /* host-owned until close; NULL: int64 input */
  char out[40];      /* the forwarded value: text, or 8 bytes */
} aggregate_t;

/* ---------------------------------------------------------------- state */

static uint64_t agg_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static double agg_double(const unsigned char *p) {
  uint64_t u = (uint64_t)std_i64_decode(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void agg_encode(const agg_state_t *s, int json, unsigned char out[AGG_STATE_LEN]) {
  out[0] = json ? 'd' : 'i';
  std_i64_encode(s->count, out + 1);
  std_i64_encode(json ? (int64_t)agg_bits(s->dsum) : s->isum, out + 9);
  std_i64_encode(json ? (int64_t)agg_bits(s->dmin) : s->imin, out + 17);
  std_i64_encode(json ? (int64_t)agg_bits(s->dmax) : s->imax, out + 25);
}

static int agg_decode(weir_ctx_t *ctx, const aggregate_t *a, const void *bytes, size_t len,
                      agg_state_t *s) {
  const unsigned char *p = bytes;
  char want = a->field ? 'd' : 'i';
  if (len != AGG_STATE_LEN || p[0] != want) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "the store holds %s for this key, not the state of an aggregate over %s: use a "
             "new store when changing `field`",
             len == AGG_STATE_LEN && p[0] == (want == 'd' ? 'i' : 'd')
                 ? "the state of the other input kind"
                 : "a value of another operator",
             a->field ? "a JSON field" : "int64 values");
    return WEIR_EFAIL;
  }
  memset(s, 0, sizeof *s);
  s->count = std_i64_decode(p + 1);
  if (a->field) {
    s->dsum = agg_double(p + 9);
    s->dmin = agg_double(p + 17);
    s->dmax = agg_double(p + 25);
  } else {
    s->isum = std_i64_decode(p + 9);
    s->imin = std_i64_decode(p + 17);
    s->imax = std_i64_decode(p + 25);
  }
  return WEIR_OK;
}

/* ---------------------------------------------------------------- input */

static const char *agg_kind_name(weir_json_kind_t k) {
  switch (k) {
  case WEIR_JSON_STRING: return "a string";
  case WEIR_JSON_TRUE:
  case WEIR_JSON_FALSE: return "a boolean";
  case WEIR_JSON_NULL: return "null";
  case WEIR_JSON_OBJECT: return "an object";
  case WEIR_JSON_ARRAY: return "an array";
  default: return "a number";
  }
}

static int agg_read_json(weir_ctx_t *ctx, const aggregate_t *a, const weir_record_t *rec,
                         double *x) {
  weir_json_value_t v;
  int rc = weir_json_find(rec->value, rec->value_len, a->field, &v);
  if (rc < 0)
    weir_log(ctx, WEIR_LOG_WARN, "the value is not valid JSON (looking for '%s')", a->field);
  else if (rc == 0)
    weir_log(ctx, WEIR_LOG_WARN, "the value has no field '%s'", a->field);
  else if (v.kind != WEIR_JSON_NUMBER)
    weir_log(ctx, WEIR_LOG_WARN, "field '%s' is %s, not a number", a->field, agg_kind_name(v.kind));
  else if (weir_json_double(&v, x) != 0)
    weir_log(ctx, WEIR_LOG_WARN, "field '%s': %.*s is out of range", a->field, (int)v.len, v.text);
  else
    return WEIR_OK;
  return WEIR_EINVAL;
}

static int agg_read_int64(weir_ctx_t *ctx, const weir_record_t *rec, int64_t *x) {
  if (rec->value_len != 8) {
    weir_log(ctx, WEIR_LOG_WARN,
             "the value is %zu bytes, not an int64 (8 bytes big-endian); set `field` for JSON",
             rec->value_len);
    return WEIR_EINVAL;
  }
  *x = std_i64_decode(rec->value);
  return WEIR_OK;
}

/* ---------------------------------------------------------------- update */

static int agg_add_int64(weir_ctx_t *ctx, agg_state_t *s, int64_t x) {
  if ((x > 0 && s->isum > INT64_MAX - x) || (x < 0 && s->isum < INT64_MIN - x)) {
    weir_log(ctx, WEIR_LOG_WARN, "the sum %lld + %lld overflows an int64", (long long)s->isum,
             (long long)x);
    return WEIR_ERANGE;
  }
  s->isum = s->count ? s->isum + x : x;
  s->imin = s->count && s->imin < x ? s->imin : x;
  s->imax = s->count && s->imax > x ? s->imax : x;
  s->count++;
  return WEIR_OK;
}

static int agg_add_double(weir_ctx_t *ctx, agg_state_t *s, double x) {
  double sum = s->count ? s->dsum + x : x;
  if (!isfinite(sum)) {
    weir_log(ctx, WEIR_LOG_WARN, "the sum %.17g + %.17g overflows a double", s->dsum, x);
    return WEIR_ERANGE;
  }
  s->dsum = sum;
  s->dmin = s->count && s->dmin < x ? s->dmin : x;
  s->dmax = s->count && s->dmax > x ? s->dmax : x;
  s->count++;
  return WEIR_OK;
}

/* The key's state so far (`old`; NULL: none yet, all zero). */
static int agg_load(weir_ctx_t *ctx, const aggregate_t *a, const void *old, size_t old_len,
                    agg_state_t *s) {
  if (!old) {
    memset(s, 0, sizeof *s);
    return WEIR_OK;
  }
  return agg_decode(ctx, a, old, old_len, s);
}

/* std_reduce_fn: the input's number read first (a bad value fails before the
 * state is looked at), then added to the state. */
static int agg_reduce(weir_ctx_t *ctx, void *op, const weir_record_t *rec, const void *old,
                      size_t old_len, unsigned char *state, size_t *state_len) {
  aggregate_t *a = op;
  agg_state_t s;
  int rc;
  if (a->field) {
    double x;
    rc = agg_read_json(ctx, a, rec, &x);
    if (rc == WEIR_OK)
      rc = agg_load(ctx, a, old, old_len, &s);
    if (rc == WEIR_OK)
      rc = agg_add_double(ctx, &s, x);
  } else {
    int64_t x;
    rc = agg_read_int64(ctx, rec, &x);
    if (rc == WEIR_OK)
      rc = agg_load(ctx, a, old, old_len, &s);
    if (rc == WEIR_OK)
      rc = agg_add_int64(ctx, &s, x);
  }
  if (rc != WEIR_OK)
    return rc;
  agg_encode(&s, a->field != NULL, state);
  *state_len = AGG_STATE_LEN;
  return WEIR_OK;
}

/* ---------------------------------------------------------------- output */

static int agg_render(weir_ctx_t *ctx, void *op, const void *state, size_t state_len,
                      const void **out, size_t *out_len) {
  aggregate_t *a = op;
  agg_state_t s;
  int rc = agg_decode(ctx, a, state, state_len, &s);
  if (rc != WEIR_OK)
    return rc;
  *out = a->out;
  if (!a->field && a->fn != AGG_AVG) {
    std_i64_encode(a->fn == AGG_SUM   ? s.isum
                   : a->fn == AGG_MIN ? s.imin
                                      : s.imax,
                   (unsigned char *)a->out);
    *out_len = 8;
    return WEIR_OK;
  }
  double d = a->fn == AGG_AVG   ? (a->field ? s.dsum : (double)s.isum) / (double)s.count
             : a->fn == AGG_SUM ? s.dsum
             : a->fn == AGG_MIN ? s.dmin
                                : s.dmax;
  std_format_double(d, a->out, sizeof a->out);
  *out_len = strlen(a->out);
  return WEIR_OK;
}

/* ---------------------------------------------------------------- operator */

static enum agg_fn agg_parse_fn(const char *v) {
  if (v && strcmp(v, "min") == 0)
    return AGG_MIN;
  if (v && strcmp(v, "max") == 0)
    return AGG_MAX;
  if (v && strcmp(v, "avg") == 0)
    return AGG_AVG;
  return AGG_SUM;
}

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
  a->fn = agg_parse_fn(fn);
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
