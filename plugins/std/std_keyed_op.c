/* std_keyed_op — the shared life and store updates of count, aggregate,
 * latest and table. */
#include "std_keyed_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int std_keyed_op_new(weir_ctx_t *ctx, size_t size, const char *type, std_render_fn render,
                     void **self, char *errstr, size_t errstr_size) {
  std_keyed_op_t *op = calloc(1, size);
  if (!op) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = std_keyed_init(ctx, &op->keyed, type, render, op, errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(op);
    return rc;
  }
  *self = op;
  return WEIR_OK;
}

int std_keyed_op_flush(weir_ctx_t *ctx, void *self) {
  std_keyed_op_t *op = self;
  return std_keyed_flush(ctx, &op->keyed);
}

void std_keyed_op_close(weir_ctx_t *ctx, void *self) {
  std_keyed_op_t *op = self;
  (void)ctx;
  std_keyed_free(&op->keyed);
  std_buf_free(&op->copy);
  free(op);
}

int std_keyed_op_render_copy(weir_ctx_t *ctx, void *op, const void *state, size_t state_len,
                             const void **out, size_t *out_len) {
  std_buf_t *copy = &((std_keyed_op_t *)op)->copy;
  (void)ctx;
  if (std_buf_reserve(copy, state_len) != WEIR_OK)
    return WEIR_ENOMEM;
  if (state_len)
    memcpy(copy->data, state, state_len);
  *out = state_len ? copy->data : "";
  *out_len = state_len;
  return WEIR_OK;
}

int std_keyed_op_skip(weir_ctx_t *ctx, const weir_record_t *rec, int tombstones) {
  if (!rec->key) {
    weir_metric_add(ctx, "skipped.null.key", 1);
    return 1;
  }
  if (!rec->value && !tombstones) {
    weir_metric_add(ctx, "skipped.null.value", 1);
    return 1;
  }
  return 0;
}

int std_keyed_op_replace(weir_ctx_t *ctx, std_keyed_op_t *op, const weir_record_t *rec) {
  weir_store_t *store = op->keyed.store;
  int rc = rec->value ? weir_kv_put(store, rec->key, rec->key_len, rec->value, rec->value_len)
                      : weir_kv_delete(store, rec->key, rec->key_len);
  if (rc < 0)
    return rc;
  return std_keyed_changed(ctx, &op->keyed, rec, rec->value, rec->value_len);
}

int std_keyed_op_reduce(weir_ctx_t *ctx, std_keyed_op_t *op, const weir_record_t *rec,
                        std_reduce_fn reduce) {
  const void *old = NULL;
  size_t old_len = 0;
  int rc = weir_kv_get(op->keyed.store, rec->key, rec->key_len, &old, &old_len);
  if (rc == WEIR_ENOENT)
    old = NULL;
  else if (rc < 0)
    return rc;
  else if (!old)
    old = ""; /* a stored empty value is a state, not "none" */
  unsigned char state[STD_KEYED_STATE_MAX];
  size_t state_len = 0;
  rc = reduce(ctx, op, rec, old, old_len, state, &state_len);
  if (rc != WEIR_OK)
    return rc;
  rc = weir_kv_put(op->keyed.store, rec->key, rec->key_len, state, state_len);
  if (rc < 0)
    return rc;
  return std_keyed_changed(ctx, &op->keyed, rec, state, state_len);
}
