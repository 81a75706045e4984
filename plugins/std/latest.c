/* latest — the latest value of each key, kept in a store:
 *
 *   [operator:last-seen]
 *   plugin = std
 *   type   = latest
 *   input  = positions
 *   store  = positions         ; [store:positions] type = kv
 *
 * Each record with a key replaces the key's value in the store; a tombstone
 * (null value) deletes the key. Latest means the last to arrive (offset
 * order), not the largest timestamp. Forwards (key, value), or a tombstone
 * for a deleted key; by default once per key per commit (emit = commit,
 * std_state.h), so this is a compacting table. `table` is the same with
 * emit = update that forwards only real changes. Records with no key are
 * skipped.
 */
#include <stdlib.h>

#include "std_ops.h"
#include "std_state.h"

static const weir_param_def_t latest_params[] = {
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("commit"),
    WEIR_PARAM_END,
};

typedef struct latest {
  std_keyed_t keyed;
  std_buf_t out; /* the forwarded value: never the store's bytes */
} latest_t;

static int latest_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  latest_t *l = calloc(1, sizeof *l);
  if (!l) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = std_keyed_init(ctx, &l->keyed, "latest", std_render_copy, &l->out, errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(l);
    return rc;
  }
  *self = l;
  return WEIR_OK;
}

static int latest_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  latest_t *l = self;
  if (std_skip_null_key(ctx, rec))
    return WEIR_OK;
  int rc = rec->value
               ? weir_kv_put(l->keyed.store, rec->key, rec->key_len, rec->value, rec->value_len)
               : weir_kv_delete(l->keyed.store, rec->key, rec->key_len);
  if (rc < 0)
    return rc;
  return std_keyed_changed(ctx, &l->keyed, rec, rec->value, rec->value_len);
}

static int latest_flush(weir_ctx_t *ctx, void *self) {
  latest_t *l = self;
  return std_keyed_flush(ctx, &l->keyed);
}

static void latest_close(weir_ctx_t *ctx, void *self) {
  latest_t *l = self;
  std_keyed_free(&l->keyed);
  std_buf_free(&l->out);
  free(l);
}

const weir_operator_def_t std_latest_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "latest",
    .doc = "Keep the latest value of each key in a store (needs store =); a tombstone deletes "
           "the key; forwards (key, value) or a tombstone",
    .params = latest_params,
    .init = latest_init,
    .process = latest_process,
    .close = latest_close,
    .flush = latest_flush,
};
