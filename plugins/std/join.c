/* join — Kafka Streams' joins of two co-partitioned inputs, on their keys:
 *
 *   [operator:enriched]
 *   plugin = std
 *   type   = join
 *   input  = orders, customers   ; LEFT, RIGHT: the order of `input =`
 *   kind   = stream-table        ; stream-table | stream-stream | table-table
 *                                ; (stream-global: one input and a global table, below)
 *   join   = left                ; inner | left | outer
 *   value  = merge               ; merge | nest | left | right | sides (join_value.h)
 *   store  = customers-by-id     ; [store:customers-by-id] type = kv
 *
 * The sides are the two nodes of `input =`, left first (weir_input_index(),
 * SDK 1.3), so the same node cannot be both and a `group.by` on the join
 * (which merges its inputs into one repartition) is refused: re-key each
 * input upstream. Both inputs must be co-partitioned (as many partitions,
 * keys partitioned alike), which the host checks before it runs; the output
 * key is the input key. Records without a key are skipped (metric
 * "skipped.null.key"), except a left join's stream records in stream-table
 * joins, which join with a null table value (Kafka Streams since KIP-962).
 *
 * stream-table (inner, left): the right input is a table (a changelog: a
 * value updates its key, a tombstone deletes it) kept in the join's own kv
 * store (`store =`, or store.right); a table update emits nothing. A left
 * (stream) record looks up the table's current value for its key and emits
 * the joined value with its own timestamp; with none, an inner join emits
 * nothing and a left join the stream value with a null right. A stream
 * tombstone is skipped ("skipped.null.value"). So a table record that
 * arrives after the stream record it would have matched is not joined to
 * it: which comes first is the order the task processes its inputs in
 * (among the records it holds, the smallest timestamp first, after waiting
 * for an input with none buffered as max.task.idle.ms says).
 *
 * table-table (inner, left, outer): both inputs are tables, kept in two kv
 * stores (the node's first two, or store.left / store.right). An update of
 * either side emits the key's new joined value (timestamp: the larger of
 * both sides' latest), and when a key's result disappears (a tombstone on
 * one side, where the join needed it) a tombstone for the key, as Kafka
 * Streams' KTable-KTable joins. An update that leaves no result and had
 * none emits nothing.
 *
 * stream-stream (inner, left, outer): join_window.c.
 *
 * stream-global (inner, left): one input, looking up a global table
 * (`global = NAME`) by a key taken from each record (`key.from`), with no
 * co-partitioning: join_global.c.
 *
 * foreign-key (inner, left): two tables, the right one keyed by a member
 * of the left one's value (`key.from`), through two topics weir adds:
 * join_fk.c.
 *
 * Stored values: a kv value is the record's timestamp (8 bytes big-endian)
 * and its value.
 */
#include "join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_state.h"

static const weir_param_def_t join_params[] = {
    WEIR_PARAM_("kind", WEIR_PARAM_ENUM, WEIR_PARAM_REQUIRED, NULL, 1, 0,
                "stream-table|stream-stream|table-table|stream-global|foreign-key",
                "What the two inputs are: stream-table (left a stream, right a table), "
                "stream-stream (windowed), table-table; stream-global (one input, a stream, "
                "looking up the global table `global`); or foreign-key (two tables, the right "
                "one's key taken from each left value by `key.from`)"),
    WEIR_PARAM_ENUM("join", "inner", "inner|left|outer",
                    "inner: only matches; left: every left record, null when unmatched; outer: "
                    "every record of both sides (not stream-table, stream-global)"),
    WEIR_PARAM_ENUM("value", "merge", "merge|nest|left|right|sides",
                    "Output value: merge (two JSON objects, the right's member wins a clash), "
                    "nest ({\"left\":L,\"right\":R}), one side's value, or sides (an empty "
                    "value, the sides in headers weir.join.left/right for your own operator)"),
    WEIR_PARAM_STR("nest.left", "left", "value = nest: the member name of the left value"),
    WEIR_PARAM_STR("nest.right", "right", "value = nest: the member name of the right value"),
    WEIR_PARAM_INT("window", NULL, 0, 1e12,
                   "stream-stream: join records at most this far apart, ms (before = after)"),
    WEIR_PARAM_INT("before", NULL, 0, 1e12,
                   "stream-stream: how far a right record may precede a left one, ms"),
    WEIR_PARAM_INT("after", NULL, 0, 1e12,
                   "stream-stream: how far a right record may follow a left one, ms"),
    WEIR_PARAM_INT("grace", NULL, 0, 1e12,
                   "stream-stream: how long after its window a record is still taken, ms "
                   "(default 0)"),
    WEIR_PARAM_ENUM("late", "drop", "drop|error",
                    "stream-stream: a record past grace is dropped (counted, logged once a "
                    "minute), or failed so processing.error.policy applies"),
    WEIR_PARAM_STR("global", NULL,
                   "stream-global: the [global:NAME] table each stream record looks up"),
    WEIR_PARAM_STR("key.from", "key",
                   "stream-global, foreign-key: the lookup key: key (the record's; not for "
                   "foreign-key), json:PATH (a member of the JSON value) or regex:PATTERN (its "
                   "first capture group over the value)"),
    WEIR_PARAM_STR("store.left", NULL,
                   "The left side's store (stream-stream: a window store; table-table: kv); "
                   "unset: the node's first store"),
    WEIR_PARAM_STR("store.right", NULL,
                   "The right side's store (kv, or window for stream-stream); unset: the node's "
                   "second store (stream-table: its first)"),
    WEIR_PARAM_END,
};

/* ---------------------------------------------------------------- output */

int join_emit(weir_ctx_t *ctx, join_op_t *j, const void *key, size_t key_len, std_side_t left,
              std_side_t right, int64_t ts) {
  weir_record_t out = WEIR_RECORD_INIT;
  int rc = std_join_value_render(ctx, &j->value, left, right, &out.value, &out.value_len);
  if (rc != WEIR_OK)
    return rc;
  out.key = key;
  out.key_len = key_len;
  out.timestamp = ts;
  weir_header_t sides[2];
  if (j->value.mode == STD_JV_SIDES) {
    if (left.data)
      sides[out.header_count++] = (weir_header_t){WEIR_JOIN_LEFT_HEADER, left.data, left.len};
    if (right.data)
      sides[out.header_count++] = (weir_header_t){WEIR_JOIN_RIGHT_HEADER, right.data, right.len};
    out.headers = sides;
  }
  return weir_forward(ctx, &out);
}

int join_emit_tombstone(weir_ctx_t *ctx, const void *key, size_t key_len, int64_t ts) {
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = key;
  out.key_len = key_len;
  out.timestamp = ts;
  return weir_forward(ctx, &out);
}

/* ---------------------------------------------------------------- tables */

int join_table_read(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec,
                    std_side_t *value, int64_t *ts, int *found) {
  const void *v;
  size_t len;
  int rc = weir_kv_get(j->store[side], rec->key, rec->key_len, &v, &len);
  *found = 0;
  *value = (std_side_t){NULL, 0};
  if (rc == WEIR_ENOENT)
    return WEIR_OK;
  if (rc < 0)
    return rc;
  if (len < 8) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "the %s store holds a %zu-byte value that is not this join's (shared with another "
             "operator?): use a store of its own",
             side == JOIN_LEFT_SIDE ? "first" : "second", len);
    return WEIR_EFAIL;
  }
  if (std_buf_reserve(&j->scratch, len) != WEIR_OK)
    return WEIR_ENOMEM;
  memcpy(j->scratch.data, v, len);
  *ts = std_i64_decode(j->scratch.data);
  *value = (std_side_t){j->scratch.data + 8, len - 8};
  *found = 1;
  return WEIR_OK;
}

int join_table_write(join_op_t *j, int side, const weir_record_t *rec) {
  if (!rec->value)
    return weir_kv_delete(j->store[side], rec->key, rec->key_len);
  if (std_buf_reserve(&j->bucket, rec->value_len + 8) != WEIR_OK)
    return WEIR_ENOMEM;
  std_i64_encode(rec->timestamp, (unsigned char *)j->bucket.data);
  if (rec->value_len)
    memcpy(j->bucket.data + 8, rec->value, rec->value_len);
  return weir_kv_put(j->store[side], rec->key, rec->key_len, j->bucket.data, rec->value_len + 8);
}

/* ---------------------------------------------------------------- stream-table */

static int stream_table(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec) {
  if (side == JOIN_RIGHT_SIDE) { /* the table: remember, emit nothing */
    if (!rec->key) {
      weir_metric_add(ctx, "skipped.null.key", 1);
      return WEIR_OK;
    }
    return join_table_write(j, side, rec);
  }
  if (!rec->value || (!rec->key && j->type == JOIN_INNER)) {
    weir_metric_add(ctx, rec->value ? "skipped.null.key" : "skipped.null.value", 1);
    return WEIR_OK;
  }
  std_side_t table = {NULL, 0};
  int64_t ts = 0;
  int found = 0;
  int rc = rec->key ? join_table_read(ctx, j, JOIN_RIGHT_SIDE, rec, &table, &ts, &found) : WEIR_OK;
  if (rc != WEIR_OK || (!found && j->type == JOIN_INNER))
    return rc;
  return join_emit(ctx, j, rec->key, rec->key_len, (std_side_t){rec->value, rec->value_len}, table,
                   rec->timestamp);
}

/* ---------------------------------------------------------------- table-table */

/* Whether a key with these sides has a joined value. */
static int has_result(const join_op_t *j, int left, int right) {
  return j->type == JOIN_INNER ? left && right : j->type == JOIN_LEFT ? left : left || right;
}

static int table_table(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec) {
  if (!rec->key) {
    weir_metric_add(ctx, "skipped.null.key", 1);
    return WEIR_OK;
  }
  const void *v;
  size_t len;
  int rc = weir_kv_get(j->store[side], rec->key, rec->key_len, &v, &len);
  if (rc < 0 && rc != WEIR_ENOENT)
    return rc;
  int had = rc == WEIR_OK, found = 0;
  std_side_t other;
  int64_t other_ts = 0;
  rc = join_table_read(ctx, j, 1 - side, rec, &other, &other_ts, &found);
  if (rc == WEIR_OK)
    rc = join_table_write(j, side, rec);
  if (rc != WEIR_OK)
    return rc;
  int mine = rec->value != NULL;
  int before = side == JOIN_LEFT_SIDE ? has_result(j, had, found) : has_result(j, found, had);
  int now = side == JOIN_LEFT_SIDE ? has_result(j, mine, found) : has_result(j, found, mine);
  int64_t ts = found && other_ts > rec->timestamp ? other_ts : rec->timestamp;
  if (!now)
    return before ? join_emit_tombstone(ctx, rec->key, rec->key_len, ts) : WEIR_OK;
  std_side_t own = {rec->value, rec->value_len};
  return side == JOIN_LEFT_SIDE ? join_emit(ctx, j, rec->key, rec->key_len, own, other, ts)
                                : join_emit(ctx, j, rec->key, rec->key_len, other, own, ts);
}

/* ---------------------------------------------------------------- set-up */

static int parse_choice(const char *v, const char *const *names, int n) {
  for (int i = 0; v && i < n; i++)
    if (strcmp(v, names[i]) == 0)
      return i;
  return 0;
}

/* Exactly two inputs, told apart by their index. */
static int check_inputs(weir_ctx_t *ctx, char *errstr, size_t errstr_size) {
  size_t n = weir_input_count(ctx);
  const char *only = n == 1 ? weir_input_name(ctx, 0) : NULL;
  const char *suffix = ".repartition-source";
  if (only && strlen(only) > strlen(suffix) &&
      strcmp(only + strlen(only) - strlen(suffix), suffix) == 0) {
    snprintf(errstr, errstr_size,
             "a join cannot have group.by (it would merge both inputs into one repartition "
             "topic): remove it and re-key each input upstream, e.g. with an operator of "
             "type = passthrough and group.by");
    return WEIR_EINVAL;
  }
  if (n == 2)
    return WEIR_OK;
  if (n == 0)
    snprintf(errstr, errstr_size,
             "a join needs a host that tells its inputs apart (SDK 1.3; this one is %u.%u)",
             (unsigned)ctx->api->abi_major, (unsigned)ctx->api->abi_minor);
  else
    snprintf(errstr, errstr_size,
             "a join reads two inputs, left then right: input = LEFT, RIGHT (it lists %zu)", n);
  return WEIR_EINVAL;
}

/* The store of `side`: the parameter store.left/right, else the node's
 * store number `index`; it must be of `kind`. */
static int open_side(weir_ctx_t *ctx, join_op_t *j, int side, size_t index, int kind, char *errstr,
                     size_t errstr_size) {
  const char *param = side == JOIN_LEFT_SIDE ? "store.left" : "store.right";
  const char *what = kind == WEIR_STORE_KV ? "kv" : "window";
  const char *name = weir_param_str(ctx, param);
  if (!name || !*name)
    name = weir_store_name(ctx, index);
  j->store[side] = name ? weir_store_get(ctx, name) : NULL;
  if (!j->store[side]) {
    snprintf(errstr, errstr_size,
             "the %s side needs a store: list %s in `store =` (or set %s) and add a "
             "[store:NAME] section with type = %s%s",
             side == JOIN_LEFT_SIDE ? "left" : "right",
             j->kind == JOIN_STREAM_TABLE ? "one" : "two", param, what,
             kind == WEIR_STORE_WINDOW ? " and retention.ms >= before + after + grace" : "");
    return WEIR_ENOENT;
  }
  if (weir_store_kind(j->store[side]) != kind) {
    snprintf(errstr, errstr_size, "store '%s' (%s side) must have type = %s for kind = %s", name,
             side == JOIN_LEFT_SIDE ? "left" : "right", what,
             j->kind == JOIN_STREAM_TABLE  ? "stream-table"
             : j->kind == JOIN_TABLE_TABLE ? "table-table"
                                           : "stream-stream");
    return WEIR_EINVAL;
  }
  return WEIR_OK;
}

static int open_stores(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  if (j->kind == JOIN_STREAM_TABLE)
    return open_side(ctx, j, JOIN_RIGHT_SIDE, 0, WEIR_STORE_KV, errstr, errstr_size);
  int kind = j->kind == JOIN_TABLE_TABLE ? WEIR_STORE_KV : WEIR_STORE_WINDOW;
  int rc = open_side(ctx, j, JOIN_LEFT_SIDE, 0, kind, errstr, errstr_size);
  if (rc == WEIR_OK)
    rc = open_side(ctx, j, JOIN_RIGHT_SIDE, 1, kind, errstr, errstr_size);
  if (rc == WEIR_OK && j->store[0] == j->store[1]) {
    snprintf(errstr, errstr_size, "the left and right sides need a store each, not the same one");
    rc = WEIR_EINVAL;
  }
  return rc;
}

static int is_set(weir_ctx_t *ctx, const char *name) {
  return weir_param_str(ctx, name) != NULL;
}

/* stream-stream: window, or before / after (one may override window). */
static int read_window(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  static const char *const timed[] = {"window", "before", "after", "grace"};
  if (j->kind != JOIN_STREAM_STREAM) {
    for (int i = 0; i < 4; i++)
      if (is_set(ctx, timed[i])) {
        snprintf(errstr, errstr_size, "%s is only for kind = stream-stream; remove it", timed[i]);
        return WEIR_EINVAL;
      }
    return WEIR_OK;
  }
  if (!is_set(ctx, "window") && !is_set(ctx, "before") && !is_set(ctx, "after")) {
    snprintf(errstr, errstr_size,
             "kind = stream-stream needs a join window: window = MS (or before = MS, after = MS)");
    return WEIR_EINVAL;
  }
  int64_t w = weir_param_int(ctx, "window");
  j->before = is_set(ctx, "before") ? weir_param_int(ctx, "before") : w;
  j->after = is_set(ctx, "after") ? weir_param_int(ctx, "after") : w;
  j->grace = weir_param_int(ctx, "grace");
  j->late_error = strcmp(weir_param_str(ctx, "late"), "error") == 0;
  return WEIR_OK;
}

static int unset_or_eq(const char *a, const char *b) {
  return !a || strcmp(a, b) == 0; /* unset: the default */
}

/* global and key.from belong to stream-global; the store keys to the others. */
static int check_kind_keys(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  static const char *const fk_not[] = {"global", "store.left", "store.right"};
  for (int i = 0; j->kind == JOIN_FOREIGN_KEY && i < 3; i++)
    if (is_set(ctx, fk_not[i])) {
      snprintf(errstr, errstr_size,
               "%s is not for kind = foreign-key (its stores are store = LEFT, RIGHT, "
               "SUBSCRIPTIONS); remove it",
               fk_not[i]);
      return WEIR_EINVAL;
    }
  if (j->kind == JOIN_FOREIGN_KEY)
    return WEIR_OK;
  static const char *const global_only[] = {"global", "key.from"};
  static const char *const others_only[] = {"store.left", "store.right"};
  int global = j->kind == JOIN_STREAM_GLOBAL;
  const char *const *keys = global ? others_only : global_only;
  for (int i = 0; i < 2; i++)
    if (strcmp(keys[i], "key.from") == 0 ? !unset_or_eq(weir_param_str(ctx, keys[i]), "key")
                                         : is_set(ctx, keys[i])) {
      snprintf(errstr, errstr_size, "%s is %sfor kind = stream-global; remove it", keys[i],
               global ? "not " : "only ");
      return WEIR_EINVAL;
    }
  return WEIR_OK;
}

static int configure(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  static const char *const kinds[] = {"stream-table", "stream-stream", "table-table",
                                      "stream-global", "foreign-key"};
  static const char *const types[] = {"inner", "left", "outer"};
  j->kind = (enum join_kind)parse_choice(weir_param_str(ctx, "kind"), kinds, 5);
  j->type = (enum join_type)parse_choice(weir_param_str(ctx, "join"), types, 3);
  if (j->kind == JOIN_FOREIGN_KEY && j->type == JOIN_OUTER) {
    snprintf(errstr, errstr_size,
             "kind = foreign-key joins are inner or left (as Kafka Streams'); use join = left");
    return WEIR_EINVAL;
  }
  if ((j->kind == JOIN_STREAM_TABLE || j->kind == JOIN_STREAM_GLOBAL) && j->type == JOIN_OUTER) {
    snprintf(errstr, errstr_size,
             "kind = %s joins are inner or left (a table update emits nothing); use join = "
             "left%s",
             j->kind == JOIN_STREAM_TABLE ? "stream-table" : "stream-global",
             j->kind == JOIN_STREAM_TABLE ? ", or kind = table-table for an outer join" : "");
    return WEIR_EINVAL;
  }
  int rc = check_kind_keys(ctx, j, errstr, errstr_size);
  if (rc == WEIR_OK && j->kind == JOIN_FOREIGN_KEY)
    rc = read_window(ctx, j, errstr, errstr_size);
  if (rc != WEIR_OK || j->kind == JOIN_FOREIGN_KEY)
    return rc == WEIR_OK ? join_fk_configure(ctx, j, errstr, errstr_size) : rc;
  if (rc == WEIR_OK && j->kind == JOIN_STREAM_GLOBAL)
    rc = read_window(ctx, j, errstr, errstr_size);
  if (rc != WEIR_OK || j->kind == JOIN_STREAM_GLOBAL)
    return rc == WEIR_OK ? join_global_configure(ctx, j, errstr, errstr_size) : rc;
  rc = check_inputs(ctx, errstr, errstr_size);
  if (rc == WEIR_OK)
    rc = read_window(ctx, j, errstr, errstr_size);
  if (rc == WEIR_OK)
    rc = open_stores(ctx, j, errstr, errstr_size);
  return rc;
}

static void join_close(weir_ctx_t *ctx, void *self) {
  join_op_t *j = self;
  (void)ctx;
  if (!j)
    return;
  std_join_value_free(&j->value);
  std_buf_free(&j->bucket);
  std_buf_free(&j->found);
  std_buf_free(&j->scratch);
  join_global_free(j);
  free(j->fk_child);
  std_buf_free(&j->fk_old);
  std_buf_free(&j->fk_msg);
  free(j);
}

static int join_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  join_op_t *j = calloc(1, sizeof *j);
  if (!j) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  std_join_value_init(ctx, &j->value);
  j->observed = -1; /* Kafka Streams' NO_TIMESTAMP, as window's */
  j->swept[0] = j->swept[1] = JOIN_NO_TIME;
  j->last_late_log = JOIN_NO_TIME;
  int rc = configure(ctx, j, errstr, errstr_size);
  if (rc != WEIR_OK) {
    join_close(ctx, j);
    return rc;
  }
  *self = j;
  return WEIR_OK;
}

static int join_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  join_op_t *j = self;
  int side = weir_input_index(ctx);
  if (side != JOIN_LEFT_SIDE && side != JOIN_RIGHT_SIDE) {
    weir_log(ctx, WEIR_LOG_ERROR, "a record from no input of the join (input index %d)", side);
    return WEIR_EFAIL;
  }
  switch (j->kind) {
  case JOIN_STREAM_GLOBAL: return join_global_process(ctx, j, rec);
  case JOIN_STREAM_TABLE: return stream_table(ctx, j, side, rec);
  case JOIN_TABLE_TABLE: return table_table(ctx, j, side, rec);
  case JOIN_FOREIGN_KEY: return join_fk_process(ctx, j, side, rec);
  default: return join_window_process(ctx, j, side, rec);
  }
}

static int join_flush(weir_ctx_t *ctx, void *self) {
  join_op_t *j = self;
  (void)ctx;
  return j->kind == JOIN_STREAM_STREAM ? join_window_flush(j) : WEIR_OK;
}

const weir_operator_def_t std_join_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "join",
    .doc = "Join two co-partitioned inputs on their keys, as Kafka Streams: stream-table, "
           "stream-stream (windowed) or table-table; inner, left or outer (needs stores); or "
           "one stream with a global table (stream-global, by a key from each record)",
    .params = join_params,
    .init = join_init,
    .process = join_process,
    .flush = join_flush,
    .close = join_close,
};
