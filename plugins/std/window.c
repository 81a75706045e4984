/* window — windowed count/sum/min/max/avg per key, with Kafka Streams'
 * semantics (TimeWindows, SlidingWindows, SessionWindows; grace; emit on
 * update or EmitStrategy.onWindowClose):
 *
 *   [operator:per-minute]
 *   plugin   = std
 *   type     = window
 *   input    = clicks
 *   store    = clicks-1m     ; [store:clicks-1m] type = window, window.size.ms = 60000
 *   window   = tumbling      ; tumbling | hopping | sliding | session
 *   size     = 60000         ; ms (hopping also `advance`; session `gap` instead)
 *   grace    = 5000
 *   function = count         ; count | sum | min | max | avg (`field` as aggregate's)
 *   emit     = final         ; update | final
 *
 * Time is the record's timestamp; stream time the operator's own, as Kafka
 * Streams' observedStreamTime (see window_process). A window [start,
 * end) takes a record while end + grace > stream time; after that the window
 * is closed and a record for it is late (see is_late for the exact rule and
 * where Kafka Streams has it). A record late for every window it belongs to
 * is dropped (metric "dropped.late", a warning at most once a minute per
 * task), or with `late = error` fails, so processing.error.policy applies
 * (dead-letter sends it to dead.letter.topic).
 *
 * Output key: Kafka Streams' windowed key (WindowedSerdes): the record key +
 * 8-byte big-endian start for time windows, key + end + start for sessions;
 * `window.key.format = text` gives "key@start/end". Output value as
 * aggregate's: count and int64 sum/min/max as int64 (8 bytes BE), avg and
 * JSON-field results as text. Timestamp: the latest record's of the window
 * (a session's: its end), as Kafka Streams forwards.
 *
 * emit = update forwards each window's new value at once; a session merged
 * into a larger one is deleted downstream with a tombstone first. emit =
 * final forwards each window once, when stream time reaches end + grace
 * (sessions: end + gap + grace), from process() of the record that moves
 * stream time there (sliding and session windows: of the first record that
 * looks after it, see throttled()). As in Kafka Streams, a record within
 * grace can merge into a session emitted already (sessions close at stream
 * time - grace - gap, and only a merged session ending before that is
 * late): the merged session is emitted again when it closes.
 *
 * Store value (41 bytes): tag ('i' int64 input or count, 'd' JSON numbers),
 * count, sum, min, max, latest timestamp, each 8 bytes big-endian.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "std_agg.h"
#include "std_ops.h"
#include "std_state.h"
#include "std_util.h"
#include "window_pending.h"

#define WIN_STATE_LEN (STD_AGG_LEN + 8) /* the aggregation, then the latest timestamp */
#define NO_TIME INT64_MIN

static const weir_param_def_t window_params[] = {
    WEIR_PARAM_("window", WEIR_PARAM_ENUM, WEIR_PARAM_REQUIRED, NULL, 1, 0,
                "tumbling|hopping|sliding|session",
                "Window kind: tumbling (size), hopping (size, advance), sliding (size = the "
                "largest time difference), session (gap)"),
    WEIR_PARAM_INT("size", "0", 0, 1e12,
                   "Window size, ms (tumbling, hopping, sliding); the store's window.size.ms"),
    WEIR_PARAM_INT("advance", "0", 0, 1e12,
                   "Hopping: how far a window starts after the "
                   "previous one, ms (0: size, i.e. tumbling)"),
    WEIR_PARAM_INT("gap", "0", 0, 1e12, "Session: the inactivity gap, ms, that ends a session"),
    WEIR_PARAM_INT("grace", "0", 0, 1e12,
                   "How long after its end a window still takes late records, ms"),
    WEIR_PARAM_ENUM("function", "count", "count|sum|min|max|avg",
                    "What to keep per window: count, or the sum/min/max/avg of the inputs"),
    WEIR_PARAM_STR("field", NULL,
                   "Dotted JSON path of the number in the value (unset: the value is an int64, "
                   "8 bytes big-endian; ignored by count)"),
    WEIR_PARAM_ENUM("emit", "update", "update|final",
                    "update: forward every change at once; final: each window once, when stream "
                    "time passes its end plus grace"),
    WEIR_PARAM_INT("emit.interval.ms", "1000", 0, 86400000,
                   "emit = final, session and sliding windows: look for closed windows at most "
                   "this often (wall clock), as Kafka Streams does; 0: at every record (what "
                   "is emitted then depends on the input only)"),
    WEIR_PARAM_ENUM("window.key.format", "windowed", "windowed|text",
                    "windowed: Kafka Streams' windowed key bytes; text: key@start/end"),
    WEIR_PARAM_ENUM("late", "drop", "drop|error",
                    "A record past grace: drop it (counted, logged once a minute), or fail it so "
                    "processing.error.policy applies (dead-letter)"),
    STD_STORE_PARAM,
    WEIR_PARAM_END,
};

enum win_kind { WK_TUMBLING, WK_HOPPING, WK_SLIDING, WK_SESSION };
typedef struct win_state {
  std_agg_t agg; /* count, sum, min, max: as aggregate's */
  int64_t ts;    /* the latest input's timestamp */
} win_state_t;

typedef struct win_op {
  weir_store_t *store;
  enum win_kind kind;
  enum std_agg_fn fn;
  int json; /* JSON numbers (field set, not a count); else int64 */
  int64_t size, advance, gap, grace;
  const char *field; /* host-owned until close; NULL: int64 input */
  int emit_final, text_key, late_error;
  int64_t observed;                       /* stream time: see window_process() */
  int64_t last_close;                     /* emit = final: windows ending by this are out */
  int64_t mark_saved;                     /* sessions: the last_close in the store */
  int64_t last_late_log;                  /* monotonic seconds of the last late warning */
  int64_t emit_interval_ms, next_emit_ms; /* sessions, sliding: see throttled() */
  int close_loaded;                       /* last_close read back from the store */
  std_buf_t key;                          /* the output key */
  int64_t *slide_starts;                  /* sliding: the windows a record reads */
  win_state_t *slide_states;
  size_t slide_cap;
  char out[40];          /* the output value */
  win_pending_t pending; /* emit = final, tumbling and hopping: windows not emitted yet */
} win_op_t;

/* ---------------------------------------------------------------- state */

static void state_encode(const win_op_t *w, const win_state_t *s,
                         unsigned char out[WIN_STATE_LEN]) {
  std_agg_encode(&s->agg, w->json, out);
  std_i64_encode(s->ts, out + STD_AGG_LEN);
}

static int state_decode(weir_ctx_t *ctx, const win_op_t *w, const void *bytes, size_t len,
                        win_state_t *s) {
  if (len != WIN_STATE_LEN || std_agg_decode(bytes, STD_AGG_LEN, w->json, &s->agg) != 0) {
    weir_log(ctx, WEIR_LOG_ERROR,
             "the store holds a %zu-byte value that is not this window operator's state (shared "
             "with another operator, or `field` changed?): use a new store",
             len);
    return WEIR_EFAIL;
  }
  s->ts = std_i64_decode((const unsigned char *)bytes + STD_AGG_LEN);
  return WEIR_OK;
}

/* The record's number (none for count). WEIR_EINVAL with a warning when it
 * has none, as aggregate does. */
static int read_input(weir_ctx_t *ctx, const win_op_t *w, const weir_record_t *rec, int64_t *ix,
                      double *dx) {
  return w->fn == STD_AGG_COUNT ? WEIR_OK : std_agg_read(ctx, w->field, rec, ix, dx);
}

/* Fold one input (ix or dx) into s. */
static int state_add(weir_ctx_t *ctx, const win_op_t *w, win_state_t *s, int64_t ix, double dx,
                     int64_t ts) {
  int rc = std_agg_add(ctx, &s->agg, w->json, ix, dx);
  if (rc == WEIR_OK)
    s->ts = s->agg.count == 1 || ts > s->ts ? ts : s->ts;
  return rc;
}

/* Merge state b into a (sessions joined by a bridging record). */
static int state_merge(weir_ctx_t *ctx, const win_op_t *w, win_state_t *a, const win_state_t *b) {
  int had = a->agg.count != 0;
  int rc = std_agg_merge(ctx, &a->agg, &b->agg, w->json);
  if (rc == WEIR_OK && b->agg.count)
    a->ts = had && a->ts > b->ts ? a->ts : b->ts;
  return rc;
}

/* ---------------------------------------------------------------- output */

static void render_value(win_op_t *w, const win_state_t *s, const void **out, size_t *out_len) {
  std_agg_render(&s->agg, w->fn, w->json, w->out, out_len);
  *out = w->out;
}

/* The output key of (key, window) in w->key: WindowedSerdes' bytes (time
 * windows: key + start; sessions: key + end + start, SessionKeySchema), or
 * "key@start/end". */
static int render_key(win_op_t *w, const void *key, size_t key_len, int64_t start, int64_t end,
                      size_t *len) {
  if (std_buf_reserve(&w->key, key_len + 64) != WEIR_OK)
    return WEIR_ENOMEM;
  if (key_len)
    memcpy(w->key.data, key, key_len);
  if (w->text_key) {
    int n = snprintf(w->key.data + key_len, 64, "@%lld/%lld", (long long)start, (long long)end);
    *len = key_len + (size_t)n;
  } else if (w->kind == WK_SESSION) {
    std_i64_encode(end, (unsigned char *)w->key.data + key_len);
    std_i64_encode(start, (unsigned char *)w->key.data + key_len + 8);
    *len = key_len + 16;
  } else {
    std_i64_encode(start, (unsigned char *)w->key.data + key_len);
    *len = key_len + 8;
  }
  return WEIR_OK;
}

/* Forward (window key, value) — state NULL: a tombstone. */
static int emit(weir_ctx_t *ctx, win_op_t *w, const void *key, size_t key_len, int64_t start,
                int64_t end, const win_state_t *s, int64_t ts) {
  weir_record_t out = WEIR_RECORD_INIT;
  size_t klen;
  int rc = render_key(w, key, key_len, start, end, &klen);
  if (rc != WEIR_OK)
    return rc;
  out.key = w->key.data;
  out.key_len = klen;
  if (s)
    render_value(w, s, &out.value, &out.value_len);
  out.timestamp = ts;
  return weir_forward(ctx, &out);
}

/* ---------------------------------------------------------------- late records */

/* A record that no window takes any more: counted, logged at most once a
 * minute (a replay of old data would log every record), and dropped or
 * failed as `late` says. */
static int late(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec, int64_t end) {
  weir_metric_add(ctx, "dropped.late", 1);
  if (std_log_due(&w->last_late_log)) {
    weir_log(ctx, WEIR_LOG_WARN,
             "late record (timestamp %lld) for a window that ended at %lld, stream time %lld, "
             "grace %lld ms: %s (metric dropped.late; logged at most once a minute)",
             (long long)rec->timestamp, (long long)end, (long long)w->observed, (long long)w->grace,
             w->late_error ? "failed, processing.error.policy applies" : "dropped");
  }
  return w->late_error ? WEIR_EINVAL : WEIR_OK;
}

/*
 * Whether a time window ending at `end` (exclusive) is closed at stream time
 * `st`: end + grace <= st. Kafka Streams' KStreamWindowAggregate.process
 * takes a record for a window only `if (windowEnd > windowCloseTime)`, with
 * windowCloseTime = observedStreamTime - gracePeriodMs; so a record exactly
 * at the boundary (end + grace == stream time) is late. Sessions differ:
 * KStreamSessionWindowAggregate drops a record when the merged session's
 * (inclusive) end < observedStreamTime - grace - inactivityGap.
 */
static int is_late(const win_op_t *w, int64_t end, int64_t st) {
  return std_i64_sat_add(end, w->grace) <= st;
}

/* ---------------------------------------------------------------- emit = final */

/* Forward every window of the store that closed since the last call, each
 * once: time windows with end in (last_close, close] (Kafka Streams'
 * emitRangeLowerBound/UpperBound of KStreamWindowAggregate), sessions with
 * end in [last_close, close) (KStreamSessionWindowAggregate). */
static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && a < 0);
}

/* Time windows end at k * advance + size: whether one ends in (last, close].
 * Stream time moves at nearly every record, and a store read per record
 * (a scan of the segment) is what this avoids. */
static int time_window_ends_in(const win_op_t *w, int64_t last, int64_t close) {
  return last == NO_TIME ||
         floor_div(close - w->size, w->advance) > floor_div(last - w->size, w->advance);
}

/* Sessions and sliding windows end anywhere: like Kafka Streams (its
 * emit.interval.ms.kstreams.windowed.aggregation, 1 s), look for closed
 * ones at most once per emit.interval.ms of wall clock. Which windows a
 * look emits then depends on the wall clock (a session merged after a look
 * emitted it is emitted twice, else once), in Kafka Streams too: 0 makes
 * the output depend on the input only. Time windows (whose ends are known
 * without a store read) look at every record: the same windows and values
 * as Kafka Streams, sooner. */
static int throttled(win_op_t *w) {
  if (w->kind != WK_SESSION && w->kind != WK_SLIDING)
    return 0;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  int64_t now = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
  if (w->next_emit_ms != NO_TIME && now < w->next_emit_ms)
    return 1;
  w->next_emit_ms = now + w->emit_interval_ms;
  return 0;
}

/* Where the last close time emitted is kept, so that a restarted or moved
 * task does not emit again what was emitted before its last commit (Kafka
 * Streams keeps it in the commit's processor metadata): a row of the empty
 * key written with the windows it covers and committed with them. Window
 * stores: a window at a start no record has. Session stores: a session
 * from SESSION_MARK_START to the close time itself (a far end would make
 * every find scan up to its segment), replaced by flush() before each
 * commit (each emit would add two changelog records per record), skipped
 * wherever sessions are read. */
#define MARK_START (INT64_MAX / 2)
#define SESSION_MARK_START (INT64_MIN / 2)

static int is_mark(const win_op_t *w, size_t key_len, int64_t start) {
  return w->kind == WK_SESSION && key_len == 0 && start == SESSION_MARK_START;
}

static void load_session_mark(win_op_t *w) {
  weir_iter_t *it = weir_session_find(w->store, "", 0, 0, SESSION_MARK_START);
  const void *k, *v;
  size_t kl, vl;
  int64_t start, end;
  while (it && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK)
    if (weir_iter_window(it, &start, &end) == WEIR_OK && is_mark(w, kl, start) &&
        (w->last_close == NO_TIME || end > w->last_close))
      w->last_close = end;
  weir_iter_close(it);
  w->mark_saved = w->last_close;
}

static void load_last_close(win_op_t *w) {
  w->close_loaded = 1;
  if (w->kind == WK_SESSION) {
    load_session_mark(w);
    return;
  }
  weir_iter_t *it = weir_window_fetch(w->store, "", 0, MARK_START, MARK_START);
  const void *k, *v;
  size_t kl, vl;
  if (it && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK && vl == 8)
    w->last_close = std_i64_decode(v);
  weir_iter_close(it);
}

static int save_last_close(win_op_t *w) {
  unsigned char v[8];
  std_i64_encode(w->last_close, v);
  if (w->kind != WK_SESSION)
    return weir_window_put(w->store, "", 0, MARK_START, v, sizeof v);
  if (w->last_close == w->mark_saved)
    return WEIR_OK;
  int rc = w->mark_saved == NO_TIME
               ? WEIR_OK
               : weir_session_remove(w->store, "", 0, SESSION_MARK_START, w->mark_saved);
  if (rc == WEIR_OK)
    rc = weir_session_put(w->store, "", 0, SESSION_MARK_START, w->last_close, v, sizeof v);
  if (rc == WEIR_OK)
    w->mark_saved = w->last_close;
  return rc;
}

/* The range of window starts (time windows) or session ends to emit at
 * close time `close`, as Kafka Streams' emitRangeLowerBound/UpperBound:
 * 0 when nothing to fetch yet (its upper bound below 0: last_close stays). */
static int emit_range(const win_op_t *w, int64_t close, int64_t *from, int64_t *to) {
  int first = w->last_close == NO_TIME;
  if (w->kind == WK_SESSION) { /* KStreamSessionWindowAggregate: ends in [last, close) */
    *from = first ? 0 : (w->last_close > 0 ? w->last_close : 0);
    *to = close - 1;
  } else if (w->kind == WK_SLIDING) { /* inclusive ends: closed when end < close */
    *from = first || w->last_close - w->size < 0 ? 0 : w->last_close - w->size;
    *to = close - w->size - 1;
  } else {
    *from = first ? INT64_MIN : w->last_close - w->size + 1;
    *to = close - w->size;
    return 1;
  }
  return *to >= 0;
}

static int emit_scanned(weir_ctx_t *ctx, win_op_t *w, int64_t from, int64_t to);

/* Emit the time windows due in [from, to] from the pending list: each one
 * looked up, in the order a scan gives (start, then key). */
static int emit_pending(weir_ctx_t *ctx, win_op_t *w, int64_t from, int64_t to) {
  win_pending_item_t *due;
  size_t n;
  if (win_pending_due(&w->pending, from, to, &due, &n))
    return emit_scanned(ctx, w, from, to); /* out of memory: the list stays whole */
  int rc = WEIR_OK;
  for (size_t i = 0; rc == WEIR_OK && i < n; i++) {
    weir_iter_t *it =
        weir_window_fetch(w->store, due[i].key, due[i].key_len, due[i].start, due[i].start);
    const void *k, *v;
    size_t kl, vl;
    win_state_t s;
    if (!it)
      rc = WEIR_EFAIL;
    else if (weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK &&
             (rc = state_decode(ctx, w, v, vl, &s)) == WEIR_OK)
      rc = emit(ctx, w, due[i].key, due[i].key_len, due[i].start, due[i].start + w->size, &s, s.ts);
    weir_iter_close(it);
  }
  win_pending_items_free(due, n);
  win_pending_closed(&w->pending, to, 0);
  return rc;
}

static int emit_closed(weir_ctx_t *ctx, win_op_t *w) {
  int64_t st = w->observed;
  if (!w->emit_final || st < 0)
    return WEIR_OK;
  if (!w->close_loaded)
    load_last_close(w);
  int64_t close = st - w->grace - (w->kind == WK_SESSION ? w->gap : 0);
  /* Kafka Streams' shouldEmitFinal takes the interval's turn before it
   * compares close times: a look that finds nothing new still counts. */
  if (throttled(w) || (w->last_close != NO_TIME && close <= w->last_close))
    return WEIR_OK;
  if ((w->kind == WK_TUMBLING || w->kind == WK_HOPPING) &&
      !time_window_ends_in(w, w->last_close, close)) {
    w->last_close = close; /* no window ends in between: nothing skipped */
    return WEIR_OK;
  }
  int64_t from, to;
  if (!emit_range(w, close, &from, &to))
    return WEIR_OK;
  w->last_close = close;
  if (to < from)
    return WEIR_OK;
  if (w->kind != WK_SESSION && save_last_close(w) != WEIR_OK)
    return WEIR_EFAIL;
  int time_kind = w->kind == WK_TUMBLING || w->kind == WK_HOPPING;
  if (time_kind && win_pending_usable(&w->pending))
    return emit_pending(ctx, w, from, to);
  int rc = emit_scanned(ctx, w, from, to);
  if (rc == WEIR_OK && time_kind)
    win_pending_closed(&w->pending, to, 1);
  return rc;
}

/* Emit the windows due in [from, to] found by scanning the store. */
static int emit_scanned(weir_ctx_t *ctx, win_op_t *w, int64_t from, int64_t to) {
  weir_iter_t *it = weir_window_fetch_all(w->store, from, to);
  if (!it)
    return WEIR_EFAIL;
  const void *k, *v;
  size_t kl, vl;
  int rc = WEIR_OK;
  while (rc == WEIR_OK && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK) {
    int64_t start, end;
    win_state_t s;
    weir_iter_window(it, &start, &end);
    if (is_mark(w, kl, start))
      continue;
    rc = state_decode(ctx, w, v, vl, &s);
    if (rc == WEIR_OK)
      rc = emit(ctx, w, k, kl, start, end, &s, w->kind == WK_SESSION ? end : s.ts);
  }
  weir_iter_close(it);
  return rc;
}

/* ---------------------------------------------------------------- time windows */

/* The stored state of (key, start), or an empty one. */
static int load_window(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec, int64_t start,
                       win_state_t *s, int *found) {
  memset(s, 0, sizeof *s);
  *found = 0;
  weir_iter_t *it = weir_window_fetch(w->store, rec->key, rec->key_len, start, start);
  if (!it)
    return WEIR_EFAIL;
  const void *k, *v;
  size_t kl, vl;
  int64_t wstart, wend;
  *found = weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK;
  int rc = *found ? state_decode(ctx, w, v, vl, s) : WEIR_OK;
  if (rc == WEIR_OK && s->agg.count && weir_iter_window(it, &wstart, &wend) == WEIR_OK &&
      wend - wstart != w->size) {
    /* The store's window.size.ms decides when its windows expire. */
    weir_log(ctx, WEIR_LOG_ERROR,
             "the store's window.size.ms is %lld but size = %lld: set them equal",
             (long long)(wend - wstart), (long long)w->size);
    rc = WEIR_EINVAL;
  }
  weir_iter_close(it);
  return rc;
}

/* Add the record to the window [start, start + size) and store it. */
static int update_window(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec, int64_t start,
                         int64_t ix, double dx) {
  win_state_t s;
  unsigned char enc[WIN_STATE_LEN];
  int found;
  int rc = load_window(ctx, w, rec, start, &s, &found);
  if (rc == WEIR_OK)
    rc = state_add(ctx, w, &s, ix, dx, rec->timestamp);
  if (rc != WEIR_OK)
    return rc;
  state_encode(w, &s, enc);
  rc = weir_window_put(w->store, rec->key, rec->key_len, start, enc, sizeof enc);
  if (rc == WEIR_OK && w->emit_final && !found)
    win_pending_add(&w->pending, rec->key, rec->key_len, start);
  if (rc == WEIR_OK && !w->emit_final)
    rc = emit(ctx, w, rec->key, rec->key_len, start, start + w->size, &s, s.ts);
  return rc;
}

/* Tumbling and hopping windows: every window [start, start + size) holding
 * the timestamp, starts aligned to `advance` from 0 (TimeWindows.windowsFor). */
static int process_time(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec, int64_t ix,
                        double dx) {
  int64_t ts = rec->timestamp, st = w->observed;
  int64_t first = ts - w->size + w->advance;
  first = (first > 0 ? first : 0) / w->advance * w->advance;
  int taken = 0, rc = WEIR_OK;
  int64_t last_end = 0;
  for (int64_t start = first; start <= ts && rc == WEIR_OK; start += w->advance) {
    last_end = start + w->size;
    if (is_late(w, last_end, st)) {
      weir_metric_add(ctx, "dropped.late.windows", 1);
      continue;
    }
    taken = 1;
    rc = update_window(ctx, w, rec, start, ix, dx);
  }
  if (rc == WEIR_OK && !taken)
    rc = late(ctx, w, rec, last_end);
  return rc;
}

/* ---------------------------------------------------------------- sessions */

typedef struct found_session {
  int64_t start, end;
  win_state_t s;
} found_session_t;

enum { MAX_MERGED = 64 };

/* Sessions of the key within `gap` of ts, merged into *merged ([*start,
 * *end], state), listed in found[] (at most MAX_MERGED: more is not
 * possible, sessions within one gap of each other were merged already). */
static int find_sessions(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec,
                         found_session_t *found, size_t *n, int64_t *start, int64_t *end,
                         win_state_t *merged) {
  int64_t ts = rec->timestamp;
  weir_iter_t *it = weir_session_find(w->store, rec->key, rec->key_len, ts - w->gap, ts + w->gap);
  if (!it)
    return WEIR_EFAIL;
  const void *k, *v;
  size_t kl, vl;
  int rc = WEIR_OK;
  *n = 0;
  while (rc == WEIR_OK && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK && *n < MAX_MERGED) {
    found_session_t *f = &found[*n];
    weir_iter_window(it, &f->start, &f->end);
    if (is_mark(w, kl, f->start))
      continue;
    (*n)++;
    rc = state_decode(ctx, w, v, vl, &f->s);
    if (rc == WEIR_OK)
      rc = state_merge(ctx, w, merged, &f->s);
    *start = f->start < *start ? f->start : *start;
    *end = f->end > *end ? f->end : *end;
  }
  weir_iter_close(it);
  return rc;
}

/* Session windows (KStreamSessionWindowAggregate): the record's session is
 * [ts, ts] merged with every session of its key within `gap`; the merged
 * ones are removed (and, emit = update, deleted downstream with tombstones)
 * and the new one stored. */
static int process_session(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec, int64_t ix,
                           double dx) {
  found_session_t found[MAX_MERGED];
  size_t n;
  int64_t ts = rec->timestamp, start = ts, end = ts;
  win_state_t s;
  memset(&s, 0, sizeof s);
  int rc = find_sessions(ctx, w, rec, found, &n, &start, &end, &s);
  if (rc != WEIR_OK)
    return rc;
  if (end < w->observed - w->grace - w->gap)
    return late(ctx, w, rec, end);
  for (size_t i = 0; i < n && rc == WEIR_OK && (start != ts || end != ts); i++) {
    rc = weir_session_remove(w->store, rec->key, rec->key_len, found[i].start, found[i].end);
    if (rc == WEIR_OK && !w->emit_final)
      rc = emit(ctx, w, rec->key, rec->key_len, found[i].start, found[i].end, NULL, found[i].end);
  }
  if (rc == WEIR_OK)
    rc = state_add(ctx, w, &s, ix, dx, ts);
  if (rc != WEIR_OK)
    return rc;
  unsigned char enc[WIN_STATE_LEN];
  state_encode(w, &s, enc);
  rc = weir_session_put(w->store, rec->key, rec->key_len, start, end, enc, sizeof enc);
  if (rc == WEIR_OK && !w->emit_final)
    rc = emit(ctx, w, rec->key, rec->key_len, start, end, &s, end);
  return rc;
}

/* ---------------------------------------------------------------- sliding */

/*
 * Sliding windows, as Kafka Streams' KStreamSlidingWindowAggregate: windows
 * [start, start + size], both ends inclusive, exist only where records
 * are: each record's left window [ts - size, ts] and, when a later record
 * is within size, its right window [ts + 1, ts + 1 + size]. A record at ts
 * reads its key's windows starting in [ts - 2 size, ts + 1] to update those
 * that hold it and to create its own and its predecessor's right window.
 * A window takes the record while its end >= stream time - grace.
 */

typedef struct sliding_ctx {
  weir_ctx_t *ctx;
  win_op_t *w;
  const weir_record_t *rec;
  int64_t ix;
  double dx;
  int64_t close;
  int64_t *starts; /* the windows found (w->slide_starts) */
  size_t n;
} sliding_ctx_t;

static int has_start(const sliding_ctx_t *c, int64_t start) {
  for (size_t i = 0; i < c->n; i++)
    if (c->starts[i] == start)
      return 1;
  return 0;
}

/* Add the record to window `start` whose state so far is s, store and
 * forward it; a window already closed is left alone. */
static int slide_update(sliding_ctx_t *c, int64_t start, win_state_t s) {
  win_op_t *w = c->w;
  int64_t end = start + w->size;
  if (end < c->close) {
    weir_metric_add(c->ctx, "dropped.late.windows", 1);
    return WEIR_OK;
  }
  int rc = state_add(c->ctx, w, &s, c->ix, c->dx, c->rec->timestamp);
  if (rc != WEIR_OK)
    return rc;
  unsigned char enc[WIN_STATE_LEN];
  state_encode(w, &s, enc);
  rc = weir_window_put(w->store, c->rec->key, c->rec->key_len, start, enc, sizeof enc);
  if (rc == WEIR_OK && !w->emit_final)
    rc = emit(c->ctx, w, c->rec->key, c->rec->key_len, start, end, &s, s.ts);
  return rc;
}

/* A window holding nothing yet but the record (Kafka Streams' initializer
 * value with the record's timestamp). */
static win_state_t slide_empty(const sliding_ctx_t *c) {
  win_state_t s;
  memset(&s, 0, sizeof s);
  s.ts = c->rec->timestamp;
  return s;
}

/* The record's right window [ts + 1, ts + 1 + size]: what the window found
 * to its right holds, without the record itself. */
static int slide_right(sliding_ctx_t *c, const win_state_t *right) {
  win_op_t *w = c->w;
  int64_t start = c->rec->timestamp + 1;
  unsigned char enc[WIN_STATE_LEN];
  state_encode(w, right, enc);
  int rc = weir_window_put(w->store, c->rec->key, c->rec->key_len, start, enc, sizeof enc);
  if (rc == WEIR_OK && !w->emit_final)
    rc = emit(c->ctx, w, c->rec->key, c->rec->key_len, start, start + w->size, right, right->ts);
  return rc;
}

/* Room for window n + 1 in w's buffers, kept from record to record: a busy
 * key has two windows per record within two sizes, with no bound. */
static int slide_room(win_op_t *w, size_t n) {
  if (n < w->slide_cap)
    return WEIR_OK;
  size_t cap = w->slide_cap ? 2 * w->slide_cap : 64;
  int64_t *starts = realloc(w->slide_starts, cap * sizeof *starts);
  if (starts)
    w->slide_starts = starts;
  win_state_t *states = starts ? realloc(w->slide_states, cap * sizeof *states) : NULL;
  if (!states)
    return WEIR_ENOMEM;
  w->slide_states = states;
  w->slide_cap = cap;
  return WEIR_OK;
}

/* The key's windows starting in [from, to], by start, into c->starts and
 * w->slide_states. */
static int slide_fetch(sliding_ctx_t *c, int64_t from, int64_t to) {
  weir_iter_t *it = weir_window_fetch(c->w->store, c->rec->key, c->rec->key_len, from, to);
  if (!it)
    return WEIR_EFAIL;
  const void *k, *v;
  size_t kl, vl;
  int rc = WEIR_OK;
  c->n = 0;
  while (rc == WEIR_OK && weir_iter_next(it, &k, &kl, &v, &vl) == WEIR_OK &&
         (rc = slide_room(c->w, c->n)) == WEIR_OK) {
    int64_t start, end;
    weir_iter_window(it, &start, &end);
    c->starts = c->w->slide_starts;
    c->starts[c->n] = start;
    rc = state_decode(c->ctx, c->w, v, vl, &c->w->slide_states[c->n++]);
  }
  weir_iter_close(it);
  return rc;
}

static int slide_unexpected(sliding_ctx_t *c, int64_t start) {
  weir_log(c->ctx, WEIR_LOG_ERROR,
           "sliding windows: unexpected window starting at %lld for a record at %lld (is the "
           "store shared, or was `size` changed? use a new store)",
           (long long)start, (long long)c->rec->timestamp);
  return WEIR_EFAIL;
}

/* Kafka Streams' processInOrder, then createWindows. */
static int slide_in_order(sliding_ctx_t *c) {
  int64_t ts = c->rec->timestamp, size = c->w->size, prev = 0;
  win_state_t left, right;
  int has_left = 0, has_right = 0, left_made = 0, right_made = 0, has_prev = 0;
  int rc = slide_fetch(c, ts - 2 * size > 0 ? ts - 2 * size : 0, ts + 1);
  const win_state_t *states = c->w->slide_states;
  for (size_t i = 0; rc == WEIR_OK && i < c->n; i++) {
    int64_t start = c->starts[i], end = start + size;
    if (end < ts) {
      left = states[i], has_left = 1, prev = states[i].ts, has_prev = 1;
    } else if (end == ts) {
      left_made = 1;
      if (states[i].ts < ts)
        prev = states[i].ts, has_prev = 1;
      rc = slide_update(c, start, states[i]);
    } else if (start <= ts) {
      right = states[i], has_right = 1;
      rc = slide_update(c, start, states[i]);
    } else if (start == ts + 1) {
      right_made = 1;
    } else {
      rc = slide_unexpected(c, start);
    }
  }
  if (rc == WEIR_OK && has_prev && !has_start(c, prev + 1) && prev + 1 + size >= ts)
    rc = slide_update(c, prev + 1, slide_empty(c));
  if (rc == WEIR_OK && !left_made) {
    win_state_t s = slide_empty(c);
    if (has_prev && has_left && ts - size <= prev) {
      s = left;
      s.ts = ts;
    }
    rc = slide_update(c, ts - size, s);
  }
  if (rc == WEIR_OK && !right_made && has_right && right.ts > ts)
    rc = slide_right(c, &right);
  return rc;
}

/* Kafka Streams' processEarly: a record before `size` (ms since the epoch)
 * would open windows starting before 0; they all go to [0, size]. */
static int slide_early(sliding_ctx_t *c) {
  int64_t ts = c->rec->timestamp, prev = 0;
  win_state_t combined, right;
  int has_combined = 0, has_right = 0, right_made = 0, has_prev = 0;
  int rc = slide_fetch(c, 0, ts + 1);
  const win_state_t *states = c->w->slide_states;
  for (size_t i = 0; rc == WEIR_OK && i < c->n; i++) {
    int64_t start = c->starts[i];
    if (start == 0) {
      combined = states[i], has_combined = 1;
      if (states[i].ts < ts)
        prev = states[i].ts, has_prev = 1;
    } else if (start <= ts) {
      right = states[i], has_right = 1;
      rc = slide_update(c, start, states[i]);
    } else if (start == ts + 1) {
      right_made = 1;
    } else {
      rc = slide_unexpected(c, start);
    }
  }
  if (!has_right && has_combined && combined.ts > ts)
    right = combined, has_right = 1;
  if (rc == WEIR_OK && !right_made && has_right && right.ts > ts)
    rc = slide_right(c, &right);
  if (rc == WEIR_OK && has_prev && !has_start(c, prev + 1))
    rc = slide_update(c, prev + 1, slide_empty(c));
  if (rc == WEIR_OK)
    rc = slide_update(c, 0, has_combined ? combined : slide_empty(c));
  return rc;
}

static int process_sliding(weir_ctx_t *ctx, win_op_t *w, const weir_record_t *rec, int64_t ix,
                           double dx) {
  int64_t ts = rec->timestamp;
  sliding_ctx_t c = {.ctx = ctx, .w = w, .rec = rec, .ix = ix, .dx = dx};
  c.close = w->observed - w->grace;
  /* Every window of the record closed: late (Kafka Streams: ts + 1 +
   * timeDifference <= closeTime). */
  if (ts < 0 || std_i64_sat_add(ts + 1, w->size) <= c.close)
    return late(ctx, w, rec, ts + 1 + w->size);
  return ts < w->size ? slide_early(&c) : slide_in_order(&c);
}

/* ---------------------------------------------------------------- operator */

static int parse_choice(const char *v, const char *const *names, int n) {
  for (int i = 0; v && i < n; i++)
    if (strcmp(v, names[i]) == 0)
      return i;
  return 0;
}

static int check_params(win_op_t *w, char *errstr, size_t errstr_size) {
  if (w->kind != WK_SESSION && w->size <= 0) {
    snprintf(errstr, errstr_size, "size: a %s window needs size > 0 (ms)",
             w->kind == WK_SLIDING ? "sliding" : "time");
    return WEIR_EINVAL;
  }
  if (w->kind == WK_SESSION && w->gap <= 0) {
    snprintf(errstr, errstr_size, "gap: a session window needs gap > 0 (ms)");
    return WEIR_EINVAL;
  }
  if (w->kind == WK_HOPPING && w->advance > w->size) {
    snprintf(errstr, errstr_size, "advance (%lld) must not exceed size (%lld)",
             (long long)w->advance, (long long)w->size);
    return WEIR_EINVAL;
  }
  return WEIR_OK;
}

/* The store must be of the window's kind: a session store for sessions, a
 * window store otherwise. */
static int check_store(weir_ctx_t *ctx, win_op_t *w, char *errstr, size_t errstr_size) {
  int rc = std_store_open(ctx, "window", &w->store, errstr, errstr_size);
  if (rc != WEIR_OK)
    return rc;
  int want = w->kind == WK_SESSION ? WEIR_STORE_SESSION : WEIR_STORE_WINDOW;
  if (weir_store_kind(w->store) == want)
    return WEIR_OK;
  snprintf(errstr, errstr_size, "the store must be a [store:*] with type = %s for %s windows%s",
           want == WEIR_STORE_SESSION ? "session" : "window",
           w->kind == WK_SESSION ? "session" : "these",
           want == WEIR_STORE_WINDOW ? " (and window.size.ms = size)" : "");
  return WEIR_EINVAL;
}

static int window_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  static const char *const kinds[] = {"tumbling", "hopping", "sliding", "session"};
  win_op_t *w = calloc(1, sizeof *w);
  if (!w)
    return WEIR_ENOMEM;
  w->kind = (enum win_kind)parse_choice(weir_param_str(ctx, "window"), kinds, 4);
  w->fn = std_agg_parse_fn(weir_param_str(ctx, "function"));
  w->size = weir_param_int(ctx, "size");
  w->advance = weir_param_int(ctx, "advance");
  if (w->kind != WK_HOPPING || w->advance == 0)
    w->advance = w->size;
  w->gap = weir_param_int(ctx, "gap");
  w->grace = weir_param_int(ctx, "grace");
  w->field = weir_param_str(ctx, "field");
  w->json = w->field != NULL && w->fn != STD_AGG_COUNT;
  w->emit_final = strcmp(weir_param_str(ctx, "emit"), "final") == 0;
  w->text_key = strcmp(weir_param_str(ctx, "window.key.format"), "text") == 0;
  w->late_error = strcmp(weir_param_str(ctx, "late"), "error") == 0;
  w->observed = -1; /* Kafka Streams' NO_TIMESTAMP */
  w->last_close = NO_TIME;
  w->mark_saved = NO_TIME;
  w->last_late_log = NO_TIME;
  w->next_emit_ms = NO_TIME;
  w->emit_interval_ms = weir_param_int(ctx, "emit.interval.ms");
  int rc = check_params(w, errstr, errstr_size);
  if (rc == WEIR_OK)
    rc = check_store(ctx, w, errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(w);
    return rc;
  }
  *self = w;
  return WEIR_OK;
}

/* Whether Kafka Streams' KStreamSlidingWindowAggregate looks for closed
 * windows after this record: not after a late one, nor an early one (before
 * `size`, processEarly), only after those processInOrder/Reverse takes. */
static int sliding_checks(const win_op_t *w, int64_t ts) {
  return ts >= w->size && std_i64_sat_add(ts + 1, w->size) > w->observed - w->grace;
}

/*
 * Stream time is the operator's own, as Kafka Streams' observedStreamTime:
 * the largest timestamp of the records it took, from -1 when its task
 * starts (not the task's, which counts records an upstream operator
 * dropped). A record without a key is not taken (no window, no time, no
 * look for closed windows), nor, in sliding windows, one without a value;
 * tumbling, hopping and session windows count a null value, as Kafka
 * Streams' aggregators see it (sum/min/max/avg have no number in it: it
 * moves time but is skipped).
 */
static int window_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  win_op_t *w = self;
  int64_t ix = 0;
  double dx = 0;
  if (!rec->key || (!rec->value && w->kind == WK_SLIDING)) {
    weir_metric_add(ctx, rec->key ? "skipped.null.value" : "skipped.null.key", 1);
    return WEIR_OK;
  }
  w->observed = rec->timestamp > w->observed ? rec->timestamp : w->observed;
  if (!rec->value && w->fn != STD_AGG_COUNT) {
    weir_metric_add(ctx, "skipped.null.value", 1);
    return emit_closed(ctx, w);
  }
  int rc = read_input(ctx, w, rec, &ix, &dx);
  if (rc != WEIR_OK)
    return rc;
  int check = w->kind != WK_SLIDING || sliding_checks(w, rec->timestamp);
  rc = w->kind == WK_SESSION   ? process_session(ctx, w, rec, ix, dx)
       : w->kind == WK_SLIDING ? process_sliding(ctx, w, rec, ix, dx)
                               : process_time(ctx, w, rec, ix, dx);
  int closed = check ? emit_closed(ctx, w) : WEIR_OK;
  return rc != WEIR_OK ? rc : closed;
}

/* Before a commit: the sessions' last close time, committed with them. */
static int window_flush(weir_ctx_t *ctx, void *self) {
  win_op_t *w = self;
  (void)ctx;
  if (w->kind != WK_SESSION || !w->emit_final || w->last_close == NO_TIME)
    return WEIR_OK;
  return save_last_close(w);
}

static void window_close(weir_ctx_t *ctx, void *self) {
  win_op_t *w = self;
  (void)ctx;
  if (!w)
    return;
  std_buf_free(&w->key);
  win_pending_free(&w->pending);
  free(w->slide_starts);
  free(w->slide_states);
  free(w);
}

const weir_operator_def_t std_window_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "window",
    .doc = "Windowed count/sum/min/max/avg per key (tumbling, hopping, sliding, session; grace; "
           "emit update or final), as Kafka Streams (needs a window or session store)",
    .params = window_params,
    .init = window_init,
    .process = window_process,
    .flush = window_flush,
    .close = window_close,
};
