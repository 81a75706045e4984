/* std_state — what the stateful standard operators share (internal to
 * std.so): finding the store, int64 values in Kafka's format, and "keyed
 * emit", the part of count/aggregate/latest/table that decides when a key's
 * new state is forwarded.
 *
 * Emit modes (parameter `emit`):
 *   update  forward (key, new state) for every input record that changes it.
 *   commit  remember the keys changed since the last flush (the task's commit)
 *           and, in flush(), forward (key, state read from the store) once per
 *           key, in the order the keys were first changed in the interval,
 *           with the timestamp of the key's last input. So a commit emits
 *           exactly the last record `update` would have emitted for each key,
 *           like Kafka Streams' record cache. When emit.max.pending keys are
 *           waiting, they are all forwarded at once from process(), which
 *           bounds the memory (the keys' bytes + ~40 bytes each).
 * Forwarded records carry no headers.
 */
#ifndef WEIR_STD_STATE_H
#define WEIR_STD_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <weir/weir.h>

#include "std_util.h"

/* ---------------------------------------------------------------- params */

#define STD_STORE_PARAM                                                                            \
  WEIR_PARAM_STR("store.name", NULL,                                                               \
                 "Store to use, one of the node's `store =` names (unset: the first one listed)")

#define STD_EMIT_PARAMS(default_)                                                                  \
  WEIR_PARAM_ENUM("emit", default_, "commit|update",                                               \
                  "update: forward each change at once; commit: forward each changed key's "       \
                  "latest state once per commit, in first-change order"),                          \
      WEIR_PARAM_INT("emit.max.pending", "10000", 1, 100000000,                                    \
                     "emit=commit: forward early when this many keys are waiting (bounds memory)")

/* ---------------------------------------------------------------- store */

/* The store named by the `store.name` parameter, or the node's first store
 * when unset. On failure writes a line telling the user how to attach one
 * ("<type> needs a store: ..."), and returns WEIR_ENOENT (WEIR_ENOTSUP on a
 * host older than ABI 1.1). */
int std_store_open(weir_ctx_t *ctx, const char *type, weir_store_t **store, char *errstr,
                   size_t errstr_size);

/* int64 as 8 bytes big-endian (Kafka's LongSerializer). Inline: an
 * aggregate's state is a handful of them, coded at every record (10% of a
 * windowed count's instructions as calls). */
/* FNV-1a over len bytes: the pending set's hash, and the foreign-key join's
 * fingerprint of a left value. */
uint64_t std_hash(const void *key, size_t len);

static inline void std_i64_encode(int64_t v, unsigned char out[8]) {
  uint64_t u = (uint64_t)v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  u = __builtin_bswap64(u);
#endif
  memcpy(out, &u, 8);
}

static inline int64_t std_i64_decode(const void *bytes) {
  uint64_t u;
  memcpy(&u, bytes, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  u = __builtin_bswap64(u);
#endif
  /* Two's complement by value: casting a uint64 above INT64_MAX to int64 is
   * implementation-defined. */
  return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* a + b clamped to [INT64_MIN, INT64_MAX], for timestamps near the edges. */
int64_t std_i64_sat_add(int64_t a, int64_t b);

/* ---------------------------------------------------------------- pending keys */

typedef struct std_pending_entry {
  size_t key_off; /* into std_pending_t.keys: offsets survive its realloc */
  size_t key_len;
  uint64_t hash;
  int64_t timestamp; /* of the key's last input */
} std_pending_entry_t;

/* The keys changed since the last flush, in first-change order, each once:
 * an insertion-ordered hash set (open addressing, linear probing). */
typedef struct std_pending {
  std_pending_entry_t *entries;
  size_t count, cap;
  size_t *slots; /* entry index + 1; 0 = empty; slot_cap is a power of two */
  size_t slot_cap;
  std_buf_t keys;
  size_t keys_used;
} std_pending_t;

/* Add the key, or update its timestamp when present. WEIR_OK or WEIR_ENOMEM. */
int std_pending_add(std_pending_t *p, const void *key, size_t key_len, int64_t timestamp);
const void *std_pending_key(const std_pending_t *p, size_t i, size_t *key_len);
void std_pending_clear(std_pending_t *p); /* keeps the memory for reuse */
void std_pending_free(std_pending_t *p);

/* ---------------------------------------------------------------- keyed emit */

/*
 * Turn a key's stored state into the value to forward: *out and *out_len must
 * point at memory of the operator's own, never at `state`: a store value is
 * valid only until the next store call of the task, and the children the
 * record is forwarded to may make one while they still read it.
 */
typedef int (*std_render_fn)(weir_ctx_t *ctx, void *op, const void *state, size_t state_len,
                             const void **out, size_t *out_len);

typedef struct std_keyed {
  weir_store_t *store;
  int emit_update;
  size_t max_pending;
  std_pending_t pending;
  std_render_fn render;
  void *op;
} std_keyed_t;

/* Open the store and read `emit` / `emit.max.pending`. */
int std_keyed_init(weir_ctx_t *ctx, std_keyed_t *k, const char *type, std_render_fn render,
                   void *op, char *errstr, size_t errstr_size);

/* rec changed its key's state to `state` (NULL: the key was deleted, which
 * forwards a tombstone). emit=update: render and forward now; emit=commit:
 * remember the key (forwarding all pending keys when there are
 * emit.max.pending of them). `state` may be the operator's or the input's
 * bytes, not a store value. */
int std_keyed_changed(weir_ctx_t *ctx, std_keyed_t *k, const weir_record_t *rec, const void *state,
                      size_t state_len);

/* Forward every pending key's current state (a tombstone when the store has
 * none). On an error the pending keys stay (the app stops; a retry would
 * forward them all again). */
int std_keyed_flush(weir_ctx_t *ctx, std_keyed_t *k);

void std_keyed_free(std_keyed_t *k);

/* The shortest "%.{15,16,17}g" text that reads back as d, with a '.' whatever
 * the locale (so integral values print as integers: 42, -3, 1e+20). */
void std_format_double(double d, char *buf, size_t size);

#endif
