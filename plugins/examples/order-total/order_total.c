/*
 * order_total.c — a joiner: the operator that builds a join's output value
 * from both sides, as Kafka Streams' ValueJoiner does.
 *
 * A std join with `value = sides` does the matching (stores, windows,
 * grace, tombstones) and forwards each result with both sides' values in
 * headers; this operator reads them with weir_join_side() and writes the
 * value it wants. Here an order joined to its product's price:
 *
 *   left  (the order)    {"qty":3}
 *   right (the product)  {"price":2.5}
 *   out                  {"qty":3,"price":2.5,"total":7.5}
 *
 * With no product (a left join's unmatched order), price and total are
 * null. A record with neither side is a table-table join's tombstone (the
 * key's result is gone): it goes on as a tombstone. A side that is not the
 * JSON it should be fails the record, so the topology's
 * processing.error.policy decides (skip, dead-letter or stop).
 *
 *   [operator:j]
 *   plugin = std
 *   type   = join
 *   input  = orders, prices
 *   kind   = stream-table
 *   join   = left
 *   value  = sides
 *   store  = prices
 *
 *   [operator:totals]
 *   plugin = examples/order-total
 *   type   = order-total
 *   input  = j
 */
#include <weir/json.h>
#include <weir/weir.h>

#include <stdio.h>
#include <stdlib.h>

static const weir_param_def_t order_total_params[] = {
    WEIR_PARAM_STR("qty.path", "qty", "The quantity in the left (order) JSON value"),
    WEIR_PARAM_STR("price.path", "price", "The price in the right (product) JSON value"),
    WEIR_PARAM_END,
};

typedef struct order_total {
  const char *qty_path, *price_path; /* host-owned, valid until close */
} order_total_t;

static int order_total_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  order_total_t *ot = calloc(1, sizeof *ot);
  if (!ot) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  ot->qty_path = weir_param_str(ctx, "qty.path");
  ot->price_path = weir_param_str(ctx, "price.path");
  *self = ot;
  return WEIR_OK;
}

/* The number at `path` in a side's JSON: 0, or -1 (logged) when absent. */
static int read_number(weir_ctx_t *ctx, const void *json, size_t len, const char *path,
                       const char *side, double *out) {
  weir_json_value_t v;
  if (weir_json_find(json, len, path, &v) == 1 && weir_json_double(&v, out) == 0)
    return 0;
  weir_log(ctx, WEIR_LOG_WARN, "the %s side has no number at '%s': %.*s", side, path,
           (int)(len > 200 ? 200 : len), (const char *)json);
  return -1;
}

static int order_total_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  order_total_t *ot = self;
  const void *order, *product;
  size_t order_len, product_len;
  int has_order = weir_join_side(rec, 0, &order, &order_len);
  int has_product = weir_join_side(rec, 1, &product, &product_len);
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = rec->key;
  out.key_len = rec->key_len;
  out.timestamp = rec->timestamp;
  if (!has_order && !has_product)
    return weir_forward(ctx, &out); /* the result is gone: a tombstone */
  if (!has_order) {
    weir_log(ctx, WEIR_LOG_WARN, "a product without an order: use join = left or inner");
    return WEIR_EFAIL;
  }
  double qty, price;
  if (read_number(ctx, order, order_len, ot->qty_path, "order", &qty))
    return WEIR_EFAIL;
  char value[160];
  int n;
  if (!has_product) {
    n = snprintf(value, sizeof value, "{\"qty\":%.17g,\"price\":null,\"total\":null}", qty);
  } else {
    if (read_number(ctx, product, product_len, ot->price_path, "product", &price))
      return WEIR_EFAIL;
    n = snprintf(value, sizeof value, "{\"qty\":%.17g,\"price\":%.17g,\"total\":%.17g}", qty, price,
                 qty * price);
  }
  out.value = value;
  out.value_len = (size_t)n;
  return weir_forward(ctx, &out);
}

static void order_total_close(weir_ctx_t *ctx, void *self) {
  (void)ctx;
  free(self);
}

static const weir_operator_def_t order_total_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "order-total",
    .doc = "Joiner: {qty, price, total} from a std join's `value = sides` (order, product)",
    .params = order_total_params,
    .init = order_total_init,
    .process = order_total_process,
    .close = order_total_close,
};

WEIR_PLUGIN("order-total", "1.0.0", "Example joiner: an order's total from its product's price",
            &order_total_op)
