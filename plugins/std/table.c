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
#include <string.h>

#include "std_keyed_op.h"
#include "std_ops.h"

static const weir_param_def_t table_params[] = {
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("update"),
    WEIR_PARAM_END,
};

static int table_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  return std_keyed_op_new(ctx, sizeof(std_keyed_op_t), "table", std_keyed_op_render_copy, self,
                          errstr, errstr_size);
}

/* 1 when rec would leave the store as it is, 0 when it changes it, <0 error. */
static int table_unchanged(std_keyed_op_t *t, const weir_record_t *rec) {
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
  if (std_keyed_op_skip(ctx, rec, 1))
    return WEIR_OK;
  int rc = table_unchanged(self, rec);
  if (rc < 0)
    return rc;
  if (rc == 1) {
    weir_metric_add(ctx, "skipped.unchanged", 1);
    return WEIR_OK;
  }
  return std_keyed_op_replace(ctx, self, rec);
}

const weir_operator_def_t std_table_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "table",
    .doc = "Materialize a changelog stream into a store (needs store =) and forward each real "
           "change: (key, value), or a tombstone for a delete",
    .params = table_params,
    .init = table_init,
    .process = table_process,
    .close = std_keyed_op_close,
    .flush = std_keyed_op_flush,
};
