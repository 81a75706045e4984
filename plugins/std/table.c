/* table — materializes a changelog stream into a store, like a KTable:
 *
 *   [operator:users]
 *   plugin = std
 *   type   = table
 *   input  = user-updates
 *   store  = users             ; [store:users] type = kv
 *
 * Each record with a key puts its value in the store; a tombstone deletes
 * the key. It forwards the table's changes: (key, new value), or a tombstone
 * for a deleted key. An update that changes nothing (the same bytes as
 * stored, or a tombstone for an absent key) is not a change: it is neither
 * written nor forwarded (metric "skipped.unchanged"), as Kafka Streams drops
 * idempotent updates of a source table. emit defaults to update, because a
 * table's output is a changelog that readers follow change by change; with
 * emit = commit a key that changed and changed back within one commit
 * interval still forwards its (unchanged) value once. Records with no key are
 * skipped. Costs one store read per record, to compare.
 */
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_state.h"

static const weir_param_def_t table_params[] = {
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("update"),
    WEIR_PARAM_END,
};

typedef struct table {
  std_keyed_t keyed;
  std_buf_t out; /* the forwarded value: never the store's bytes */
} table_t;

static int table_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  table_t *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = std_keyed_init(ctx, &t->keyed, "table", std_render_copy, &t->out, errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(t);
    return rc;
  }
  *self = t;
  return WEIR_OK;
}

/* 1 when rec would leave the store as it is, 0 when it changes it, <0 error. */
static int table_unchanged(table_t *t, const weir_record_t *rec) {
  const void *old;
  size_t old_len;
  int rc = weir_kv_get(t->keyed.store, rec->key, rec->key_len, &old, &old_len);
  if (rc == WEIR_ENOENT)
    return rec->value == NULL;
  if (rc < 0)
    return rc;
  /* `old` is valid until the next store call: compare before any put. */
  return rec->value && old_len == rec->value_len &&
         (old_len == 0 || memcmp(old, rec->value, old_len) == 0);
}

static int table_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  table_t *t = self;
  if (std_skip_null_key(ctx, rec))
    return WEIR_OK;
  int rc = table_unchanged(t, rec);
  if (rc < 0)
    return rc;
  if (rc == 1) {
    weir_metric_add(ctx, "skipped.unchanged", 1);
    return WEIR_OK;
  }
  rc = rec->value ? weir_kv_put(t->keyed.store, rec->key, rec->key_len, rec->value, rec->value_len)
                  : weir_kv_delete(t->keyed.store, rec->key, rec->key_len);
  if (rc < 0)
    return rc;
  return std_keyed_changed(ctx, &t->keyed, rec, rec->value, rec->value_len);
}

static int table_flush(weir_ctx_t *ctx, void *self) {
  table_t *t = self;
  return std_keyed_flush(ctx, &t->keyed);
}

static void table_close(weir_ctx_t *ctx, void *self) {
  table_t *t = self;
  std_keyed_free(&t->keyed);
  std_buf_free(&t->out);
  free(t);
}

const weir_operator_def_t std_table_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "table",
    .doc = "Materialize a changelog stream into a store (needs store =) and forward each real "
           "change: (key, value), or a tombstone for a delete",
    .params = table_params,
    .init = table_init,
    .process = table_process,
    .close = table_close,
    .flush = table_flush,
};
