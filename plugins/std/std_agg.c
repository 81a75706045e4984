#include "std_agg.h"

#include <math.h>
#include <string.h>

#include <weir/json.h>

#include "std_state.h"

enum std_agg_fn std_agg_parse_fn(const char *v) {
  static const char *const names[] = {"count", "sum", "min", "max", "avg"};
  for (size_t i = 0; v && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(v, names[i]) == 0)
      return (enum std_agg_fn)i;
  return STD_AGG_SUM;
}

static int64_t f64_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return (int64_t)u;
}

static double f64_of(const unsigned char *p) {
  uint64_t u = (uint64_t)std_i64_decode(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

void std_agg_encode(const std_agg_t *s, int json, unsigned char out[STD_AGG_LEN]) {
  out[0] = json ? 'd' : 'i';
  std_i64_encode(s->count, out + 1);
  std_i64_encode(json ? f64_bits(s->dsum) : s->isum, out + 9);
  std_i64_encode(json ? f64_bits(s->dmin) : s->imin, out + 17);
  std_i64_encode(json ? f64_bits(s->dmax) : s->imax, out + 25);
}

int std_agg_decode(const void *bytes, size_t len, int json, std_agg_t *s) {
  const unsigned char *p = bytes;
  if (len != STD_AGG_LEN || (p[0] != 'd' && p[0] != 'i'))
    return -1;
  if (p[0] != (json ? 'd' : 'i'))
    return 1;
  memset(s, 0, sizeof *s);
  s->count = std_i64_decode(p + 1);
  if (json) {
    s->dsum = f64_of(p + 9);
    s->dmin = f64_of(p + 17);
    s->dmax = f64_of(p + 25);
  } else {
    s->isum = std_i64_decode(p + 9);
    s->imin = std_i64_decode(p + 17);
    s->imax = std_i64_decode(p + 25);
  }
  return 0;
}

static const char *kind_name(weir_json_kind_t k) {
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

static int read_json(weir_ctx_t *ctx, const char *field, const weir_record_t *rec, double *x) {
  weir_json_value_t v;
  int rc = weir_json_find(rec->value, rec->value_len, field, &v);
  if (rc < 0)
    weir_log(ctx, WEIR_LOG_WARN, "the value is not valid JSON (looking for '%s')", field);
  else if (rc == 0)
    weir_log(ctx, WEIR_LOG_WARN, "the value has no field '%s'", field);
  else if (v.kind != WEIR_JSON_NUMBER)
    weir_log(ctx, WEIR_LOG_WARN, "field '%s' is %s, not a number", field, kind_name(v.kind));
  else if (weir_json_double(&v, x) != 0)
    weir_log(ctx, WEIR_LOG_WARN, "field '%s': %.*s is out of range", field, (int)v.len, v.text);
  else
    return WEIR_OK;
  return WEIR_EINVAL;
}

int std_agg_read(weir_ctx_t *ctx, const char *field, const weir_record_t *rec, int64_t *ix,
                 double *dx) {
  if (field)
    return read_json(ctx, field, rec, dx);
  if (rec->value_len != 8) {
    weir_log(ctx, WEIR_LOG_WARN,
             "the value is %zu bytes, not an int64 (8 bytes big-endian); set `field` for JSON",
             rec->value_len);
    return WEIR_EINVAL;
  }
  *ix = std_i64_decode(rec->value);
  return WEIR_OK;
}

static int sum_overflows(weir_ctx_t *ctx, int64_t a, int64_t b) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) {
    weir_log(ctx, WEIR_LOG_WARN, "the sum %lld + %lld overflows an int64", (long long)a,
             (long long)b);
    return 1;
  }
  return 0;
}

int std_agg_add(weir_ctx_t *ctx, std_agg_t *s, int json, int64_t ix, double dx) {
  if (json) {
    double sum = s->count ? s->dsum + dx : dx;
    if (!isfinite(sum)) {
      weir_log(ctx, WEIR_LOG_WARN, "the sum %.17g + %.17g overflows a double", s->dsum, dx);
      return WEIR_ERANGE;
    }
    s->dsum = sum;
    s->dmin = s->count && s->dmin < dx ? s->dmin : dx;
    s->dmax = s->count && s->dmax > dx ? s->dmax : dx;
  } else {
    if (s->count && sum_overflows(ctx, s->isum, ix))
      return WEIR_ERANGE;
    s->isum = s->count ? s->isum + ix : ix;
    s->imin = s->count && s->imin < ix ? s->imin : ix;
    s->imax = s->count && s->imax > ix ? s->imax : ix;
  }
  s->count = std_i64_sat_add(s->count, 1);
  return WEIR_OK;
}

int std_agg_merge(weir_ctx_t *ctx, std_agg_t *a, const std_agg_t *b, int json) {
  if (!b->count)
    return WEIR_OK;
  if (!a->count) {
    *a = *b;
    return WEIR_OK;
  }
  if (json) {
    a->dsum += b->dsum;
    a->dmin = a->dmin < b->dmin ? a->dmin : b->dmin;
    a->dmax = a->dmax > b->dmax ? a->dmax : b->dmax;
  } else {
    if (sum_overflows(ctx, a->isum, b->isum))
      return WEIR_ERANGE;
    a->isum += b->isum;
    a->imin = a->imin < b->imin ? a->imin : b->imin;
    a->imax = a->imax > b->imax ? a->imax : b->imax;
  }
  a->count = std_i64_sat_add(a->count, b->count);
  return WEIR_OK;
}

void std_agg_render(const std_agg_t *s, enum std_agg_fn fn, int json, char out[40],
                    size_t *out_len) {
  if (fn == STD_AGG_COUNT || (!json && fn != STD_AGG_AVG)) {
    std_i64_encode(fn == STD_AGG_COUNT ? s->count
                   : fn == STD_AGG_SUM ? s->isum
                   : fn == STD_AGG_MIN ? s->imin
                                       : s->imax,
                   (unsigned char *)out);
    *out_len = 8;
    return;
  }
  double d = fn == STD_AGG_AVG   ? (json ? s->dsum : (double)s->isum) / (double)s->count
             : fn == STD_AGG_SUM ? s->dsum
             : fn == STD_AGG_MIN ? s->dmin
                                 : s->dmax;
  std_format_double(d, out, 40);
  *out_len = strlen(out);
}
