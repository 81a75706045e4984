/* std_keyed_op — the operator that keeps one store value per key and emits
 * it by std_keyed (std_state.h): count, aggregate, latest and table. Here is
 * what they share: creating, flushing and closing one, skipping records that
 * have no place in a keyed store, and the two ways a record changes its
 * key: replacing the stored value (latest, table) or reducing the stored
 * state with the record (count, aggregate). Each operator is a struct whose
 * first member is std_keyed_op_t, and each file keeps only what differs.
 * Internal to std.so. */
#ifndef WEIR_STD_KEYED_OP_H
#define WEIR_STD_KEYED_OP_H

#include <stddef.h>
#include <weir/weir.h>

#include "std_state.h"
#include "std_util.h"

typedef struct std_keyed_op {
  std_keyed_t keyed;
  std_buf_t copy; /* std_keyed_op_render_copy's output: never the store's bytes */
} std_keyed_op_t;

/* The largest state std_keyed_op_reduce stores for a key. */
#define STD_KEYED_STATE_MAX 64

/* Allocate `size` zeroed bytes (a struct that starts with std_keyed_op_t),
 * open its store and read `emit` / `emit.max.pending`. `render` turns a
 * stored state into the forwarded value and gets the new struct as `op`.
 * WEIR_OK with *self set, or an error with errstr written. */
int std_keyed_op_new(weir_ctx_t *ctx, size_t size, const char *type, std_render_fn render,
                     void **self, char *errstr, size_t errstr_size);

/* The operator's flush() and close(), for any std_keyed_op_t. */
int std_keyed_op_flush(weir_ctx_t *ctx, void *self);
void std_keyed_op_close(weir_ctx_t *ctx, void *self);

/* std_render_fn that forwards the state as it is stored (latest, table). */
int std_keyed_op_render_copy(weir_ctx_t *ctx, void *op, const void *state, size_t state_len,
                             const void **out, size_t *out_len);

/* 1 when rec has no place in a keyed store: no key (metric
 * "skipped.null.key"), or no value when `tombstones` is 0 (metric
 * "skipped.null.value"). Else 0. */
int std_keyed_op_skip(weir_ctx_t *ctx, const weir_record_t *rec, int tombstones);

/* rec's value becomes its key's value (a tombstone deletes the key), then
 * the change is emitted. */
int std_keyed_op_replace(weir_ctx_t *ctx, std_keyed_op_t *op, const weir_record_t *rec);

/*
 * The new state of rec's key, from rec and the stored state: `old` is NULL
 * when the key has none, and valid only during the call (make no store
 * call). Write at most STD_KEYED_STATE_MAX bytes to `state` and set
 * *state_len. WEIR_OK, or an error (nothing is stored or emitted).
 */
typedef int (*std_reduce_fn)(weir_ctx_t *ctx, void *op, const weir_record_t *rec, const void *old,
                             size_t old_len, unsigned char *state, size_t *state_len);

/* Read rec's key's state, reduce it with rec, store the result and emit it. */
int std_keyed_op_reduce(weir_ctx_t *ctx, std_keyed_op_t *op, const weir_record_t *rec,
                        std_reduce_fn reduce);

#endif
