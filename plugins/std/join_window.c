/* join_window — the std join's stream-stream kind (Kafka Streams'
 * KStream-KStream join, with KAFKA-10847's rule: no early spurious null):
 *
 *   kind   = stream-stream
 *   join   = outer           ; inner | left | outer
 *   window = 10000           ; or before = / after = (ms), default 0 each
 *   grace  = 2000
 *   store  = clicks-buf, views-buf   ; left, right: [store:*] type = window,
 *                                    ; window.size.ms = 1, retention.ms >=
 *                                    ; before + after + grace
 *
 * A left record at t joins every right record of its key at t' with
 * t - before <= t' <= t + after (a right record, symmetrically, the left
 * records in [t' - after, t' + before]); each pair is emitted once, when its
 * second record arrives, with the larger timestamp. Both sides are buffered
 * in their window stores, one bucket per (key, timestamp) holding every
 * record of that key and time in arrival order, each with a "matched" flag.
 *
 * Time is the join's stream time: the largest timestamp it was given, of
 * either side, a record it skips (no key, no value) included, as Kafka
 * Streams' shared time tracker, and never behind its task's stream time
 * (weir_stream_time, which also counts records that did not reach the
 * join). The task's is the one its window stores expire by, at their next
 * write: a join behind it took records whose matches its stores had
 * expired or not, depending on which store had been written since (after a
 * tombstone far ahead an outer join, which also writes the other side's
 * store to flag a match, found fewer pairs than an inner join on the same
 * input; a commit, which writes the bookkeeping row, expired the left
 * store at a wall-clock moment). With its time at least the task's and
 * retention.ms >= before + after + grace, every record a taken record can
 * match is still in its store. A record is late, and dropped (metric
 * "dropped.late") or failed (`late = error`), when its own window has
 * closed: t + after + grace < stream time for a left record, t' + before +
 * grace < stream time for a right one, as Kafka Streams.
 *
 * Unmatched records (a left join's left ones, an outer join's both) are
 * emitted with a null other side once no record that could still match
 * them can be taken: stream time > t + before + after + grace (a right
 * record at t + after is taken until stream time passes t + after + before
 * + grace). That is later than Kafka Streams' t + after + grace when before
 * > 0, where Kafka Streams can still emit a null and then the match. They
 * are emitted when a record moves stream time past that point, before that
 * record is joined, left side first, each side's in timestamp then key
 * order, with their own timestamp; then their buckets are deleted (every
 * record that could match them is late by then).
 *
 * Stream time and how far each side was swept are kept in a bookkeeping row
 * of the left store, written before each commit (join_window_flush): a task
 * opened again (moved, restarted, given back) neither emits again the
 * unmatched records it emitted before its last commit (their buckets' deletes
 * come past the store's retention, which ignores them) nor takes a record
 * that was late before.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "join.h"
#include "std_state.h"

#define MATCHED 0x1
#define ENTRY_HEAD 5 /* flags, then the value's length (u32 big-endian) */

/* ---------------------------------------------------------------- bytes */

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t sat_sub(int64_t a, int64_t b) {
  return std_i64_sat_add(a, -b);
}

/* One record in a bucket. */
typedef struct entry {
  unsigned char *flags;
  const char *value;
  size_t len;
} entry_t;

/* The entry at *pos of bucket [b, b + len): 1 (and *pos moves on), 0 at the
 * end, -1 when the bytes are no bucket. */
static int next_entry(char *b, size_t len, size_t *pos, entry_t *e) {
  if (*pos == len)
    return 0;
  if (len - *pos < ENTRY_HEAD)
    return -1;
  size_t n = get_u32((const unsigned char *)b + *pos + 1);
  if (n > len - *pos - ENTRY_HEAD)
    return -1;
  e->flags = (unsigned char *)b + *pos;
  e->value = b + *pos + ENTRY_HEAD;
  e->len = n;
  *pos += ENTRY_HEAD + n;
  return 1;
}

static int corrupt(weir_ctx_t *ctx, int side) {
  weir_log(ctx, WEIR_LOG_ERROR,
           "the %s window store holds a value that is not this join's buffer (shared with "
           "another operator?): use a store of its own",
           side == JOIN_LEFT_SIDE ? "left" : "right");
  return WEIR_EFAIL;
}

/* ---------------------------------------------------------------- copies */

/* Items copied out of a window iterator into j->found, so that the
 * iterator is closed before anything is forwarded or written: start (8),
 * key length (4), key, value length (4), value. */
typedef struct item {
  int64_t start;
  const char *key;
  size_t key_len;
  char *value;
  size_t value_len;
} item_t;

static int copy_items(join_op_t *j, weir_iter_t *it, size_t *used) {
  const void *k, *v;
  size_t kl, vl;
  *used = 0;
  while (weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK) {
    int64_t start, end;
    if (weir_iter_window(it, &start, &end) != WEIR_OK ||
        std_buf_reserve(&j->found, *used + 16 + kl + vl) != WEIR_OK)
      return WEIR_ENOMEM;
    unsigned char *p = (unsigned char *)j->found.data + *used;
    std_i64_encode(start, p);
    put_u32(p + 8, (uint32_t)kl);
    memcpy(p + 12, k, kl);
    put_u32(p + 12 + kl, (uint32_t)vl);
    if (vl)
      memcpy(p + 16 + kl, v, vl);
    *used += 16 + kl + vl;
  }
  return WEIR_OK;
}

static size_t next_item(join_op_t *j, size_t pos, item_t *item) {
  unsigned char *p = (unsigned char *)j->found.data + pos;
  item->start = std_i64_decode(p);
  item->key_len = get_u32(p + 8);
  item->key = (const char *)p + 12;
  item->value_len = get_u32(p + 12 + item->key_len);
  item->value = (char *)p + 16 + item->key_len;
  return pos + 16 + item->key_len + item->value_len;
}

/* Fetch into j->found: one key's buckets (key != NULL) or every key's,
 * starting in [from, to]. */
static int fetch(join_op_t *j, int side, const weir_record_t *key, int64_t from, int64_t to,
                 size_t *used) {
  weir_iter_t *it = key ? weir_window_fetch(j->store[side], key->key, key->key_len, from, to)
                        : weir_window_fetch_all(j->store[side], from, to);
  if (!it)
    return WEIR_EFAIL;
  int rc = copy_items(j, it, used);
  weir_iter_close(it);
  return rc;
}

/* ---------------------------------------------------------------- closed windows */

/* Emit the unmatched records of `side` whose windows closed since the last
 * call, and delete their buckets. */
static int sweep_side(weir_ctx_t *ctx, join_op_t *j, int side) {
  int64_t span = std_i64_sat_add(std_i64_sat_add(j->before, j->after), j->grace);
  int64_t close_to = sat_sub(sat_sub(j->observed, span), 1);
  if (j->swept[side] != JOIN_NO_TIME && close_to <= j->swept[side])
    return WEIR_OK;
  int64_t from = j->swept[side] == JOIN_NO_TIME ? INT64_MIN : j->swept[side] + 1;
  size_t used, pos = 0;
  int rc = fetch(j, side, NULL, from, close_to, &used);
  if (rc != WEIR_OK)
    return rc;
  j->swept[side] = close_to;
  while (rc == WEIR_OK && pos < used) {
    item_t item;
    entry_t e;
    size_t at = 0;
    int more;
    pos = next_item(j, pos, &item);
    while (rc == WEIR_OK && (more = next_entry(item.value, item.value_len, &at, &e)) == 1) {
      if (*e.flags & MATCHED)
        continue;
      std_side_t own = {e.value, e.len}, none = {NULL, 0};
      rc = side == JOIN_LEFT_SIDE
               ? join_emit(ctx, j, item.key, item.key_len, own, none, item.start)
               : join_emit(ctx, j, item.key, item.key_len, none, own, item.start);
    }
    if (rc == WEIR_OK && more < 0)
      rc = corrupt(ctx, side);
    if (rc == WEIR_OK)
      rc = weir_window_put(j->store[side], item.key, item.key_len, item.start, NULL, 0);
  }
  return rc;
}

static int sweep(weir_ctx_t *ctx, join_op_t *j) {
  int rc = WEIR_OK;
  for (int side = JOIN_LEFT_SIDE; side <= JOIN_RIGHT_SIDE && rc == WEIR_OK; side++)
    if (join_keeps_unmatched(j, side))
      rc = sweep_side(ctx, j, side);
  return rc;
}

/* ---------------------------------------------------------------- late records */

/* Counted, logged at most once a minute (a replay would log every record),
 * dropped or failed as `late` says. */
static int late(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec) {
  weir_metric_add(ctx, "dropped.late", 1);
  if (std_log_due(&j->last_late_log)) {
    weir_log(ctx, WEIR_LOG_WARN,
             "late %s record (timestamp %lld), stream time %lld, grace %lld ms: %s (metric "
             "dropped.late; logged at most once a minute)",
             side == JOIN_LEFT_SIDE ? "left" : "right", (long long)rec->timestamp,
             (long long)j->observed, (long long)j->grace,
             j->late_error ? "failed, processing.error.policy applies" : "dropped");
  }
  return j->late_error ? WEIR_EINVAL : WEIR_OK;
}

/* ---------------------------------------------------------------- joining */

/* Join rec with the other side's records in its window; *matched says
 * whether there was any. Their matched flags are set where the other side
 * keeps unmatched records. */
static int join_other(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec,
                      int *matched) {
  int other = 1 - side;
  int64_t back = side == JOIN_LEFT_SIDE ? j->before : j->after;
  int64_t ahead = side == JOIN_LEFT_SIDE ? j->after : j->before;
  size_t used, pos = 0;
  int rc = fetch(j, other, rec, sat_sub(rec->timestamp, back),
                 std_i64_sat_add(rec->timestamp, ahead), &used);
  std_side_t own = {rec->value, rec->value_len};
  *matched = 0;
  while (rc == WEIR_OK && pos < used) {
    item_t item;
    entry_t e;
    size_t at = 0;
    int more, dirty = 0;
    pos = next_item(j, pos, &item);
    int64_t ts = item.start > rec->timestamp ? item.start : rec->timestamp;
    while (rc == WEIR_OK && (more = next_entry(item.value, item.value_len, &at, &e)) == 1) {
      std_side_t theirs = {e.value, e.len};
      *matched = 1;
      rc = side == JOIN_LEFT_SIDE ? join_emit(ctx, j, rec->key, rec->key_len, own, theirs, ts)
                                  : join_emit(ctx, j, rec->key, rec->key_len, theirs, own, ts);
      if (join_keeps_unmatched(j, other) && !(*e.flags & MATCHED)) {
        *e.flags |= MATCHED;
        dirty = 1;
      }
    }
    if (rc == WEIR_OK && more < 0)
      rc = corrupt(ctx, other);
    if (rc == WEIR_OK && dirty)
      rc = weir_window_put(j->store[other], rec->key, rec->key_len, item.start, item.value,
                           item.value_len);
  }
  return rc;
}

/* Add rec to its bucket in its side's store. */
static int buffer_own(join_op_t *j, int side, const weir_record_t *rec, int matched) {
  size_t used, len = 0;
  int rc = fetch(j, side, rec, rec->timestamp, rec->timestamp, &used);
  if (rc != WEIR_OK)
    return rc;
  if (used) {
    item_t item;
    next_item(j, 0, &item);
    len = item.value_len;
    if (std_buf_reserve(&j->bucket, len) != WEIR_OK)
      return WEIR_ENOMEM;
    memcpy(j->bucket.data, item.value, len);
  }
  if (rec->value_len > UINT32_MAX - ENTRY_HEAD ||
      std_buf_reserve(&j->bucket, len + ENTRY_HEAD + rec->value_len) != WEIR_OK)
    return WEIR_ENOMEM;
  unsigned char *p = (unsigned char *)j->bucket.data + len;
  p[0] = matched ? MATCHED : 0;
  put_u32(p + 1, (uint32_t)rec->value_len);
  if (rec->value_len)
    memcpy(p + ENTRY_HEAD, rec->value, rec->value_len);
  return weir_window_put(j->store[side], rec->key, rec->key_len, rec->timestamp, j->bucket.data,
                         len + ENTRY_HEAD + rec->value_len);
}

/* ---------------------------------------------------------------- marks */

/* The bookkeeping row: the empty key at a start past every window
 * (window_store.c's RESERVED_TIME on: it moves no time, expires never). */
#define MARK_START (INT64_MAX / 2)
#define MARK_LEN 24

static void load_marks(join_op_t *j) {
  const void *k, *v;
  size_t kl, vl;
  j->marks_loaded = 1;
  weir_iter_t *it = weir_window_fetch(j->store[JOIN_LEFT_SIDE], "", 0, MARK_START, MARK_START);
  if (it && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK && kl == 0 && vl == MARK_LEN) {
    j->observed = std_i64_decode(v);
    j->swept[0] = std_i64_decode((const unsigned char *)v + 8);
    j->swept[1] = std_i64_decode((const unsigned char *)v + 16);
  }
  weir_iter_close(it);
  j->saved[0] = j->observed, j->saved[1] = j->swept[0], j->saved[2] = j->swept[1];
}

int join_window_flush(join_op_t *j) {
  int64_t now[3] = {j->observed, j->swept[0], j->swept[1]};
  if (!j->marks_loaded || memcmp(now, j->saved, sizeof now) == 0)
    return WEIR_OK;
  unsigned char v[MARK_LEN];
  for (int i = 0; i < 3; i++)
    std_i64_encode(now[i], v + 8 * i);
  int rc = weir_window_put(j->store[JOIN_LEFT_SIDE], "", 0, MARK_START, v, sizeof v);
  if (rc == WEIR_OK)
    memcpy(j->saved, now, sizeof now);
  return rc;
}

/* Stream time moves first, to the task's (rec's timestamp included), on a
 * skipped record too: see the header. */
int join_window_process(weir_ctx_t *ctx, join_op_t *j, int side, const weir_record_t *rec) {
  if (!j->marks_loaded)
    load_marks(j);
  int skip = !rec->key || !rec->value;
  int64_t now = weir_stream_time(ctx);
  if (rec->timestamp > now)
    now = rec->timestamp;
  if (now > j->observed) {
    j->observed = now;
    int rc = sweep(ctx, j);
    if (rc != WEIR_OK)
      return rc;
  }
  if (skip) {
    weir_metric_add(ctx, rec->key ? "skipped.null.value" : "skipped.null.key", 1);
    return WEIR_OK;
  }
  int64_t ahead = side == JOIN_LEFT_SIDE ? j->after : j->before;
  if (std_i64_sat_add(std_i64_sat_add(rec->timestamp, ahead), j->grace) < j->observed)
    return late(ctx, j, side, rec);
  int matched;
  int rc = join_other(ctx, j, side, rec, &matched);
  return rc == WEIR_OK ? buffer_own(j, side, rec, matched) : rc;
}
