/* dedupe — drops the records whose key was seen within the last N ms of
 * event time:
 *
 *   [operator:unique-orders]
 *   plugin    = std
 *   type      = dedupe
 *   input     = orders
 *   store     = seen-orders    ; [store:seen-orders] type = kv
 *   within.ms = 600000
 *
 * The store maps key -> the largest timestamp the key was seen at (int64,
 * 8 bytes big-endian). A record is a duplicate when that timestamp is less
 * than within.ms away from its own (before or after it: late records count);
 * it is dropped (metric "dropped") and, when newer, moves the key's
 * timestamp, so a key that keeps coming back within the window stays
 * suppressed (as in Kafka Streams' deduplication example). A first
 * occurrence is forwarded at once, unchanged. Only keys are compared, never
 * values. Records with no key cannot be duplicates: they are forwarded
 * (metric "forwarded.null.key").
 *
 * Expiry: at a commit (flush), keys last seen at or before stream time -
 * within.ms are deleted, so the store holds about one window of keys. The
 * store is ordered by key, not time, so this reads the task's whole store
 * (one full iteration, plus a delete and a changelog tombstone per expired
 * key) at each commit; purge.interval.ms makes it rarer. A late record whose
 * earlier occurrence has been purged passes as a first occurrence.
 */
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_state.h"

static const weir_param_def_t dedupe_params[] = {
    WEIR_PARAM_("within.ms", WEIR_PARAM_INT, WEIR_PARAM_REQUIRED, NULL, 1, 9e18, NULL,
                "Drop a record when its key was seen less than this many ms (event time) from it"),
    WEIR_PARAM_INT("purge.interval.ms", "0", 0, 9e18,
                   "Scan the store for expired keys at a commit only when stream time has moved "
                   "this far since the last scan (0: at every commit)"),
    STD_STORE_PARAM,
    WEIR_PARAM_END,
};

typedef struct dedupe {
  weir_store_t *store;
  int64_t within;
  int64_t purge_interval;
  int64_t last_purge; /* stream time of the last scan */
  int purged;         /* whether last_purge is set */
  std_buf_t key;      /* a copy of the key being deleted during a scan */
} dedupe_t;

static int dedupe_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  int64_t within = weir_param_int(ctx, "within.ms");
  if (within <= 0) {
    snprintf(errstr, errstr_size, "within.ms: must be > 0, got %lld", (long long)within);
    return WEIR_EINVAL;
  }
  dedupe_t *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = std_store_open(ctx, "dedupe", &d->store, errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(d);
    return rc;
  }
  d->within = within;
  d->purge_interval = weir_param_int(ctx, "purge.interval.ms");
  *self = d;
  return WEIR_OK;
}

/* |a - b| < within. The distance of two int64s always fits a uint64, and
 * unsigned subtraction wraps to exactly it: no overflow at the edges. */
static int dedupe_near(const dedupe_t *d, int64_t a, int64_t b) {
  uint64_t dist = a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
  return dist < (uint64_t)d->within;
}

/* The key's last-seen timestamp: 1 and *ts, 0 when unseen, <0 error. */
static int dedupe_last_seen(weir_ctx_t *ctx, dedupe_t *d, const weir_record_t *rec, int64_t *ts) {
  const void *v;
  size_t len;
  int rc = weir_kv_get(d->store, rec->key, rec->key_len, &v, &len);
  if (rc == WEIR_ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  if (len != 8) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "the store holds a %zu-byte value for a key; dedupe keeps 8-byte timestamps "
             "(is the store shared with another operator?)",
             len);
    return WEIR_EFAIL;
  }
  *ts = std_i64_decode(v);
  return 1;
}

static int dedupe_remember(dedupe_t *d, const weir_record_t *rec) {
  unsigned char ts[8];
  std_i64_encode(rec->timestamp, ts);
  int rc = weir_kv_put(d->store, rec->key, rec->key_len, ts, sizeof ts);
  return rc < 0 ? rc : WEIR_OK;
}

static int dedupe_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  dedupe_t *d = self;
  int64_t seen = 0;
  if (!rec->key) {
    weir_metric_add(ctx, "forwarded.null.key", 1);
    return weir_forward(ctx, rec);
  }
  int rc = dedupe_last_seen(ctx, d, rec, &seen);
  if (rc < 0)
    return rc;
  int known = rc == 1;
  /* Only ever move a key's timestamp forward: a late record must not
   * shorten the window of the newer one. */
  if (!known || rec->timestamp > seen) {
    rc = dedupe_remember(d, rec);
    if (rc != WEIR_OK)
      return rc;
  }
  if (known && dedupe_near(d, seen, rec->timestamp)) {
    weir_metric_add(ctx, "dropped", 1);
    return WEIR_OK;
  }
  return weir_forward(ctx, rec);
}

/* Delete the key the iterator just returned; `key` is the store's, valid
 * only until the delete call itself, so it is copied first. */
static int dedupe_expire(dedupe_t *d, const void *key, size_t key_len) {
  if (std_buf_reserve(&d->key, key_len ? key_len : 1) != WEIR_OK)
    return WEIR_ENOMEM;
  if (key_len)
    memcpy(d->key.data, key, key_len);
  int rc = weir_kv_delete(d->store, d->key.data, key_len);
  return rc < 0 ? rc : WEIR_OK;
}

/* One pass over the store deleting what expired at or before `cutoff`. */
static int dedupe_purge(weir_ctx_t *ctx, dedupe_t *d, int64_t cutoff) {
  weir_iter_t *it = weir_kv_range(d->store, NULL, 0, NULL, 0);
  const void *key, *v;
  size_t key_len, len;
  int64_t purged = 0;
  int rc;
  if (!it)
    return WEIR_EFAIL;
  while ((rc = weir_iter_next(it, &key, &key_len, &v, &len)) == WEIR_OK) {
    if (len != 8 || std_i64_decode(v) > cutoff)
      continue;
    if ((rc = dedupe_expire(d, key, key_len)) != WEIR_OK)
      break;
    purged++;
  }
  weir_iter_close(it);
  if (purged)
    weir_metric_add(ctx, "purged", purged);
  return rc == WEIR_ENOENT ? WEIR_OK : rc;
}

static int dedupe_flush(weir_ctx_t *ctx, void *self) {
  dedupe_t *d = self;
  int64_t now = weir_stream_time(ctx);
  if (d->purged && now < std_i64_sat_add(d->last_purge, d->purge_interval))
    return WEIR_OK;
  int rc = dedupe_purge(ctx, d, std_i64_sat_add(now, -d->within));
  if (rc != WEIR_OK)
    return rc;
  d->last_purge = now;
  d->purged = 1;
  return WEIR_OK;
}

static void dedupe_close(weir_ctx_t *ctx, void *self) {
  dedupe_t *d = self;
  std_buf_free(&d->key);
  free(d);
}

const weir_operator_def_t std_dedupe_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "dedupe",
    .doc = "Drop records whose key was seen less than within.ms apart (event time); forward "
           "first occurrences; purge expired keys from the store (needs store =) at commits",
    .params = dedupe_params,
    .init = dedupe_init,
    .process = dedupe_process,
    .close = dedupe_close,
    .flush = dedupe_flush,
};
