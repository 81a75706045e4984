/* join — kind = foreign-key: Kafka Streams' KTable-KTable foreign-key join
 * (KIP-213). Two tables keyed differently: the left one (orders by order id)
 * refers to the right one (customers by customer id) by a member of its
 * value, and each left row is joined with the right row it refers to:
 *
 *   [operator:order-customer]
 *   plugin   = std
 *   type     = join
 *   input    = orders, customers    ; LEFT table, RIGHT table
 *   kind     = foreign-key
 *   key.from = json:customer        ; the right key in each left value
 *   join     = inner                ; inner | left
 *   store    = orders-fk, customers-fk, customer-refs   ; three kv stores
 *
 * The tables are partitioned by different keys, so the host splits the join
 * in two (runtime/topology/topology_fk.c): this operator, the left half, keeps
 * the left table (the first store); the right half (std_join_fk_right_op, in
 * the right input's partitioning) keeps the right table and, for each right
 * key, the left keys that refer to it (the second and third stores). A left
 * update sends a subscription keyed by its right key; the right half records
 * it and answers with the right row, keyed by the left key; a right update
 * answers every left key subscribed to it. The left half joins an answer
 * with its current row only if the row is the one the answer was for (a
 * 64-bit FNV-1a hash of its value, std_hash, travels with both), so answers overtaken by a
 * later update of the row are dropped ("fk.stale.responses") and no result
 * ever pairs a row with a right value it no longer refers to.
 *
 * Results, keyed by the left key, with the larger timestamp of both rows:
 * the joined value for a left row whose right row exists; none (inner) or
 * the left value with a null right (left) while it does not; a tombstone
 * when a row that had a result loses it (its right row deleted, or changed
 * to a key with no row, in an inner join), and when a left row is deleted.
 * A left value with no right key (key.from finds none) matches nothing.
 * Kafka Streams' behaviour, including its tombstones for keys that may
 * never have had a result (it cannot tell either, without a fourth store).
 *
 * Wire formats, between the halves only (the topics are weir's):
 *   subscription  key: right key; value: 1, instruction, hash (8), left
 *                 timestamp (8), left key
 *   response      key: left key; value: 1, has-right (1), hash (8), right
 *                 timestamp (8), right value
 *   third store   key: right key's length (4), right key, left key; value: hash
 * Integers are big-endian.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join.h"
#include "std_ops.h"
#include "std_state.h"

#define FK_VERSION 1
#define FK_SUB_HEAD 18  /* version, instruction, hash, timestamp */
#define FK_RESP_HEAD 18 /* version, has-right, hash, timestamp */

enum fk_instruction {
  FK_UNSUBSCRIBE = 0,   /* the left row refers elsewhere now: forget it, answer nothing */
  FK_ANSWER_ALWAYS = 1, /* answer, with a null right when there is no row */
  FK_ANSWER_IF_ROW = 2  /* a new row of an inner join: answer only with a row */
};

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* ---------------------------------------------------------------- left half */

int join_fk_configure(weir_ctx_t *ctx, join_op_t *j, char *errstr, size_t errstr_size) {
  const char *from = weir_param_str(ctx, "key.from");
  if (!from || strcmp(from, "key") == 0) {
    snprintf(errstr, errstr_size,
             "kind = foreign-key needs key.from = json:PATH or regex:PATTERN: where each left "
             "value holds the right table's key (with the left key itself, use table-table)");
    return WEIR_EINVAL;
  }
  int rc = join_read_key_from(ctx, j, errstr, errstr_size);
  if (rc != WEIR_OK)
    return rc;
  const char *node = weir_node_name(ctx);
  size_t need = strlen(node) + sizeof ".subscription";
  if (!(j->fk_child = malloc(need))) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  snprintf(j->fk_child, need, "%s.subscription", node);
  int found = 0;
  for (size_t i = 0; i < weir_child_count(ctx); i++)
    found |= strcmp(weir_child_name(ctx, i), j->fk_child) == 0;
  if (!found || weir_input_count(ctx) != 2) {
    snprintf(errstr, errstr_size,
             "kind = foreign-key needs a host that adds the join's right half and topics "
             "(weir 0.2 or later), with input = LEFT, RIGHT");
    return WEIR_EINVAL;
  }
  const char *name = weir_store_name(ctx, 0);
  j->store[JOIN_LEFT_SIDE] = name ? weir_store_get(ctx, name) : NULL;
  if (!j->store[JOIN_LEFT_SIDE] || weir_store_kind(j->store[JOIN_LEFT_SIDE]) != WEIR_STORE_KV) {
    snprintf(errstr, errstr_size,
             "kind = foreign-key needs store = LEFT, RIGHT, SUBSCRIPTIONS, each a [store:NAME] "
             "with type = kv");
    return WEIR_EINVAL;
  }
  return WEIR_OK;
}

/* Send a subscription of rec's key to right key `fk`. */
static int subscribe(weir_ctx_t *ctx, join_op_t *j, const void *fk, size_t fk_len,
                     enum fk_instruction what, uint64_t hash, const weir_record_t *rec) {
  if (std_buf_reserve(&j->fk_msg, FK_SUB_HEAD + rec->key_len) != WEIR_OK)
    return WEIR_ENOMEM;
  unsigned char *p = (unsigned char *)j->fk_msg.data;
  p[0] = FK_VERSION;
  p[1] = (unsigned char)what;
  std_i64_encode((int64_t)hash, p + 2);
  std_i64_encode(rec->timestamp, p + 10);
  memcpy(p + FK_SUB_HEAD, rec->key, rec->key_len);
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = fk;
  out.key_len = fk_len;
  out.value = p;
  out.value_len = FK_SUB_HEAD + rec->key_len;
  out.timestamp = rec->timestamp;
  return weir_forward_to(ctx, j->fk_child, &out);
}

/* The right key the stored left value `v` refers to, copied into j->fk_old:
 * 1, 0 when it has none, < 0 on an error. */
static int old_key(join_op_t *j, std_side_t v, size_t *len) {
  weir_record_t old = WEIR_RECORD_INIT;
  old.value = v.data;
  old.value_len = v.len;
  const void *k;
  int have = join_key_of(j, &old, &k, len);
  if (have != 1)
    return have;
  if (std_buf_reserve(&j->fk_old, *len + 1) != WEIR_OK)
    return WEIR_ENOMEM;
  if (*len)
    memcpy(j->fk_old.data, k, *len);
  return 1;
}

/* A left value with no right key: it matches nothing. */
static int no_right_key(weir_ctx_t *ctx, join_op_t *j, const weir_record_t *rec, int had_row) {
  weir_metric_add(ctx, "fk.no.key", 1);
  if (j->type == JOIN_LEFT)
    return join_emit(ctx, j, rec->key, rec->key_len, (std_side_t){rec->value, rec->value_len},
                     (std_side_t){NULL, 0}, rec->timestamp);
  return had_row ? join_emit_tombstone(ctx, rec->key, rec->key_len, rec->timestamp) : WEIR_OK;
}

static int left_update(weir_ctx_t *ctx, join_op_t *j, const weir_record_t *rec) {
  std_side_t old;
  int64_t old_ts;
  int had = 0;
  size_t old_len = 0;
  int rc = join_table_read(ctx, j, JOIN_LEFT_SIDE, rec, &old, &old_ts, &had);
  int had_key = rc == WEIR_OK && had ? old_key(j, old, &old_len) : 0;
  if (rc != WEIR_OK || had_key < 0 || (rc = join_table_write(j, JOIN_LEFT_SIDE, rec)) != WEIR_OK)
    return rc != WEIR_OK ? rc : had_key;
  const void *fk = NULL;
  size_t fk_len = 0;
  int has_key = rec->value ? join_key_of(j, rec, &fk, &fk_len) : 0;
  if (has_key < 0)
    return has_key;
  int moved = had_key && (!has_key || fk_len != old_len || memcmp(fk, j->fk_old.data, fk_len));
  if (moved && (rc = subscribe(ctx, j, j->fk_old.data, old_len, FK_UNSUBSCRIBE, 0, rec)))
    return rc;
  if (!rec->value) /* the row is gone: so is its result */
    return had ? join_emit_tombstone(ctx, rec->key, rec->key_len, rec->timestamp) : WEIR_OK;
  if (!has_key)
    return no_right_key(ctx, j, rec, had);
  enum fk_instruction what = had || j->type == JOIN_LEFT ? FK_ANSWER_ALWAYS : FK_ANSWER_IF_ROW;
  return subscribe(ctx, j, fk, fk_len, what, std_hash(rec->value, rec->value_len), rec);
}

/* An answer of the right half for the left key rec->key. */
static int left_answer(weir_ctx_t *ctx, join_op_t *j, const weir_record_t *rec) {
  const unsigned char *p = rec->value;
  if (!rec->key || !p || rec->value_len < FK_RESP_HEAD || p[0] != FK_VERSION) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "a foreign-key response of %zu bytes that this join did not write (another writer "
             "on its response topic?)",
             rec->value ? rec->value_len : 0);
    return WEIR_EFAIL;
  }
  std_side_t row;
  int64_t row_ts;
  int found = 0;
  int rc = join_table_read(ctx, j, JOIN_LEFT_SIDE, rec, &row, &row_ts, &found);
  if (rc != WEIR_OK)
    return rc;
  if (!found || (uint64_t)std_i64_decode(p + 2) != std_hash(row.data, row.len)) {
    weir_metric_add(ctx, "fk.stale.responses", 1);
    return WEIR_OK;
  }
  int64_t right_ts = std_i64_decode(p + 10);
  int64_t ts = right_ts > row_ts ? right_ts : row_ts;
  if (!p[1] && j->type == JOIN_INNER)
    return join_emit_tombstone(ctx, rec->key, rec->key_len, ts);
  std_side_t right = {NULL, 0};
  if (p[1])
    right = (std_side_t){p + FK_RESP_HEAD, rec->value_len - FK_RESP_HEAD};
  return join_emit(ctx, j, rec->key, rec->key_len, row, right, ts);
}

int join_fk_process(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec) {
  if (side == JOIN_RIGHT_SIDE)
    return left_answer(ctx, j, rec);
  if (!rec->key) {
    weir_metric_add(ctx, "skipped.null.key", 1);
    return WEIR_OK;
  }
  return left_update(ctx, j, rec);
}

/* ---------------------------------------------------------------- right half */

/* The right half's stores: the right table (timestamp and value, as the
 * other table joins keep theirs) and the subscriptions. */
typedef struct fk_right {
  join_op_t table; /* store[0]: the right table; join_table_read/write */
  weir_store_t *subs;
  std_buf_t key;  /* a subscription key being built */
  std_buf_t msg;  /* a response being encoded */
  std_buf_t refs; /* left keys and hashes copied out of a prefix scan */
} fk_right_t;

static int answer(weir_ctx_t *ctx, fk_right_t *r, const void *left_key, size_t left_key_len,
                  uint64_t hash, const std_side_t *right, int64_t right_ts, int64_t ts) {
  size_t len = FK_RESP_HEAD + (right ? right->len : 0);
  if (std_buf_reserve(&r->msg, len) != WEIR_OK)
    return WEIR_ENOMEM;
  unsigned char *p = (unsigned char *)r->msg.data;
  p[0] = FK_VERSION;
  p[1] = right != NULL;
  std_i64_encode((int64_t)hash, p + 2);
  std_i64_encode(right_ts, p + 10);
  if (right && right->len)
    memcpy(p + FK_RESP_HEAD, right->data, right->len);
  weir_record_t out = WEIR_RECORD_INIT;
  out.key = left_key;
  out.key_len = left_key_len;
  out.value = p;
  out.value_len = len;
  out.timestamp = ts;
  return weir_forward(ctx, &out);
}

/* The third store's key: the right key's length and bytes, then the left key
 * (none: the prefix of every left key referring to the right key). */
static int ref_key(fk_right_t *r, const void *fk, size_t fk_len, const void *lk, size_t lk_len) {
  if (std_buf_reserve(&r->key, 4 + fk_len + lk_len) != WEIR_OK)
    return WEIR_ENOMEM;
  unsigned char *p = (unsigned char *)r->key.data;
  put_u32(p, (uint32_t)fk_len);
  memcpy(p + 4, fk, fk_len);
  if (lk_len)
    memcpy(p + 4 + fk_len, lk, lk_len);
  return WEIR_OK;
}

static int right_subscription(weir_ctx_t *ctx, fk_right_t *r, const weir_record_t *rec) {
  const unsigned char *p = rec->value;
  if (!rec->key || !p || rec->value_len < FK_SUB_HEAD || p[0] != FK_VERSION ||
      p[1] > FK_ANSWER_IF_ROW) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "a foreign-key subscription of %zu bytes that this join did not write (another "
             "writer on its subscription topic?)",
             rec->value ? rec->value_len : 0);
    return WEIR_EFAIL;
  }
  const unsigned char *lk = p + FK_SUB_HEAD;
  size_t lk_len = rec->value_len - FK_SUB_HEAD, key_len = 4 + rec->key_len + lk_len;
  int rc = ref_key(r, rec->key, rec->key_len, lk, lk_len);
  if (rc != WEIR_OK || p[1] == FK_UNSUBSCRIBE)
    return rc != WEIR_OK ? rc : weir_kv_delete(r->subs, r->key.data, key_len);
  if ((rc = weir_kv_put(r->subs, r->key.data, key_len, p + 2, 8)) != WEIR_OK)
    return rc;
  std_side_t row;
  int64_t row_ts = 0;
  int found = 0;
  rc = join_table_read(ctx, &r->table, 0, rec, &row, &row_ts, &found);
  if (rc != WEIR_OK || (!found && p[1] == FK_ANSWER_IF_ROW))
    return rc;
  int64_t left_ts = std_i64_decode(p + 10);
  int64_t ts = found && row_ts > left_ts ? row_ts : left_ts;
  return answer(ctx, r, lk, lk_len, (uint64_t)std_i64_decode(p + 2), found ? &row : NULL,
                found ? row_ts : left_ts, ts);
}

/* Every left key referring to rec's key, with its hash, copied out of the
 * scan (a store call ends what a store hands out) as (length (4), key,
 * hash (8)) runs; *n of them. */
static int collect_refs(fk_right_t *r, const weir_record_t *rec, size_t *n) {
  int rc = ref_key(r, rec->key, rec->key_len, NULL, 0);
  weir_iter_t *it = rc == WEIR_OK ? weir_kv_prefix(r->subs, r->key.data, 4 + rec->key_len) : NULL;
  if (!it)
    return rc != WEIR_OK ? rc : WEIR_EFAIL;
  size_t used = 0;
  const void *k, *v;
  size_t kl, vl;
  *n = 0;
  while (rc == WEIR_OK && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK) {
    size_t lk_len = kl - 4 - rec->key_len;
    if (vl != 8 || std_buf_reserve(&r->refs, used + 4 + lk_len + 8) != WEIR_OK) {
      rc = vl != 8 ? WEIR_EFAIL : WEIR_ENOMEM;
      break;
    }
    unsigned char *p = (unsigned char *)r->refs.data + used;
    put_u32(p, (uint32_t)lk_len);
    memcpy(p + 4, (const unsigned char *)k + 4 + rec->key_len, lk_len);
    memcpy(p + 4 + lk_len, v, 8);
    used += 4 + lk_len + 8;
    (*n)++;
  }
  weir_iter_close(it);
  return rc;
}

static int right_update(weir_ctx_t *ctx, fk_right_t *r, const weir_record_t *rec) {
  size_t n = 0;
  int rc = join_table_write(&r->table, 0, rec);
  if (rc == WEIR_OK)
    rc = collect_refs(r, rec, &n);
  std_side_t row = {rec->value, rec->value_len};
  const unsigned char *p = (const unsigned char *)r->refs.data;
  for (size_t i = 0; rc == WEIR_OK && i < n; i++) {
    size_t lk_len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    uint64_t hash = (uint64_t)std_i64_decode(p + 4 + lk_len);
    rc = answer(ctx, r, p + 4, lk_len, hash, rec->value ? &row : NULL, rec->timestamp,
                rec->timestamp);
    p += 4 + lk_len + 8;
  }
  return rc;
}

static int fk_right_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  fk_right_t *r = self;
  int side = weir_input_index(ctx);
  if (side == 1)
    return right_subscription(ctx, r, rec);
  if (!rec->key) {
    weir_metric_add(ctx, "skipped.null.key", 1);
    return WEIR_OK;
  }
  return right_update(ctx, r, rec);
}

static void fk_right_close(weir_ctx_t *ctx, void *self) {
  fk_right_t *r = self;
  (void)ctx;
  if (!r)
    return;
  std_buf_free(&r->table.scratch);
  std_buf_free(&r->table.bucket);
  std_buf_free(&r->key);
  std_buf_free(&r->msg);
  std_buf_free(&r->refs);
  free(r);
}

static weir_store_t *kv_store_at(weir_ctx_t *ctx, size_t index) {
  const char *name = weir_store_name(ctx, index);
  weir_store_t *s = name ? weir_store_get(ctx, name) : NULL;
  return s && weir_store_kind(s) == WEIR_STORE_KV ? s : NULL;
}

static int fk_right_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  const char *sub = weir_input_count(ctx) == 2 ? weir_input_name(ctx, 1) : NULL;
  const char *suffix = ".subscription-source";
  if (!sub || strlen(sub) <= strlen(suffix) ||
      strcmp(sub + strlen(sub) - strlen(suffix), suffix) != 0) {
    snprintf(errstr, errstr_size,
             "type = join-fk-right is the half of a foreign-key join that weir adds itself; "
             "write type = join with kind = foreign-key instead");
    return WEIR_EINVAL;
  }
  fk_right_t *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  r->table.store[0] = kv_store_at(ctx, 0);
  r->subs = kv_store_at(ctx, 1);
  if (!r->table.store[0] || !r->subs || r->table.store[0] == r->subs) {
    snprintf(errstr, errstr_size,
             "kind = foreign-key needs store = LEFT, RIGHT, SUBSCRIPTIONS, three different "
             "[store:NAME] sections with type = kv");
    fk_right_close(ctx, r);
    return WEIR_EINVAL;
  }
  *self = r;
  return WEIR_OK;
}

const weir_operator_def_t std_join_fk_right_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "join-fk-right",
    .doc = "The right half of a foreign-key join (type = join, kind = foreign-key), which weir "
           "adds itself: keeps the right table and the left keys referring to each right key",
    .init = fk_right_init,
    .process = fk_right_process,
    .close = fk_right_close,
};
