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
#include "std_keyed_op.h"
#include "std_ops.h"

static const weir_param_def_t latest_params[] = {
    STD_STORE_PARAM,
    STD_EMIT_PARAMS("commit"),
    WEIR_PARAM_END,
};

static int latest_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  return std_keyed_op_new(ctx, sizeof(std_keyed_op_t), "latest", std_keyed_op_render_copy, self,
                          errstr, errstr_size);
}

static int latest_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  if (std_keyed_op_skip(ctx, rec, 1))
    return WEIR_OK;
  return std_keyed_op_replace(ctx, self, rec);
}

const weir_operator_def_t std_latest_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "latest",
    .doc = "Keep the latest value of each key in a store (needs store =); a tombstone deletes "
           "the key; forwards (key, value) or a tombstone",
    .params = latest_params,
    .init = latest_init,
    .process = latest_process,
    .close = std_keyed_op_close,
    .flush = std_keyed_op_flush,
};
