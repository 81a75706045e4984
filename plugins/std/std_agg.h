/* std_agg — the count/sum/min/max state of `aggregate` and `window`, and
 * its 33-byte store encoding: a tag ('i' int64 inputs, 'd' JSON numbers),
 * then count, sum, min, max as 8-byte big-endian words (int64, or IEEE-754
 * double bits for 'd'). All four are kept whatever the function, so a new
 * function keeps the state; int64 and JSON states are not mixed. */
#ifndef WEIR_STD_AGG_H
#define WEIR_STD_AGG_H

#include <stddef.h>
#include <stdint.h>

#include <weir/weir.h>

#define STD_AGG_LEN 33

enum std_agg_fn { STD_AGG_COUNT, STD_AGG_SUM, STD_AGG_MIN, STD_AGG_MAX, STD_AGG_AVG };

typedef struct std_agg {
  int64_t count;
  int64_t isum, imin, imax; /* tag 'i' */
  double dsum, dmin, dmax;  /* tag 'd' */
} std_agg_t;

/* "count", "sum", "min", "max" or "avg" (anything else: sum). */
enum std_agg_fn std_agg_parse_fn(const char *name);

void std_agg_encode(const std_agg_t *s, int json, unsigned char out[STD_AGG_LEN]);
/* 0, or 1 when the bytes are the state of the other input kind, -1 when
 * they are no aggregation state at all (the caller says which). */
int std_agg_decode(const void *bytes, size_t len, int json, std_agg_t *s);

/* The record's number: an int64 value (8 bytes big-endian) when `field` is
 * NULL, else the JSON number at `field`. WEIR_EINVAL with a warning. */
int std_agg_read(weir_ctx_t *ctx, const char *field, const weir_record_t *rec, int64_t *ix,
                 double *dx);
/* Fold one input in (ix for int64 states, dx for JSON ones); WEIR_ERANGE
 * with a warning when the sum overflows. */
int std_agg_add(weir_ctx_t *ctx, std_agg_t *s, int json, int64_t ix, double dx);
/* b folded into a (sessions joined by a bridging record). */
int std_agg_merge(weir_ctx_t *ctx, std_agg_t *a, const std_agg_t *b, int json);
/* The output value: count and int64 sum/min/max as 8 bytes BE, avg and JSON
 * results as the shortest exact text. out holds 40 bytes. */
void std_agg_render(const std_agg_t *s, enum std_agg_fn fn, int json, char out[40],
                    size_t *out_len);

#endif
