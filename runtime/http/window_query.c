#include "http/window_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

#include "http/query.h"
#include "http/query_common.h"
#include "state/window_store.h"

enum {
  DEFAULT_LIMIT = 100,
  /* Windows one answer may gather before sorting: a range wider than this
   * is refused (a 400 asking for a narrower one), not answered slowly. */
  MAX_GATHERED = 100000
};

typedef struct range {
  int64_t from, to;
  int limit;
} range_t;

typedef struct wrow {
  unsigned char *key, *value;
  size_t key_len, value_len;
  int64_t start, end;
  int32_t partition;
} wrow_t;

typedef struct wrows {
  wrow_t *v;
  size_t n, cap;
} wrows_t;

static void wrows_free(wrows_t *rs) {
  for (size_t i = 0; i < rs->n; i++) {
    free(rs->v[i].key);
    free(rs->v[i].value);
  }
  free(rs->v);
}

static int wrows_add(wrows_t *rs, const wrow_t *row) {
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 64;
    wrow_t *grown = realloc(rs->v, cap * sizeof *grown);
    if (!grown)
      return -1;
    rs->v = grown;
    rs->cap = cap;
  }
  wrow_t *to = &rs->v[rs->n];
  *to = *row;
  to->key = malloc(row->key_len + 1);
  to->value = malloc(row->value_len + 1);
  if (!to->key || !to->value) {
    free(to->key);
    free(to->value);
    return -1;
  }
  memcpy(to->key, row->key, row->key_len);
  memcpy(to->value, row->value, row->value_len);
  rs->n++;
  return 0;
}

/* By start, then key, then partition: the order of the answer. */
static int wrow_cmp(const void *a, const void *b) {
  const wrow_t *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  if (c || x->key_len != y->key_len)
    return c ? c : x->key_len < y->key_len ? -1 : 1;
  return (x->partition > y->partition) - (x->partition < y->partition);
}

static int parse_time(const weir_http_req_t *req, const char *name, int64_t dflt, int64_t *out,
                      weir_http_resp_t *r) {
  const char *text = weir_http_arg(req, name);
  char *end;
  *out = dflt;
  if (!text)
    return 0;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (!*text || *end || errno) {
    weir_http_error(r, 400, "%s=%.32s: give a time in epoch milliseconds", name, text);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_range(const weir_http_req_t *req, range_t *q, weir_http_resp_t *r) {
  const char *limit = weir_http_arg(req, "limit");
  if (parse_time(req, "from", INT64_MIN, &q->from, r) ||
      parse_time(req, "to", INT64_MAX, &q->to, r))
    return -1;
  if (q->from > q->to) {
    weir_http_error(r, 400, "from=%lld is after to=%lld", (long long)q->from, (long long)q->to);
    return -1;
  }
  q->limit = DEFAULT_LIMIT;
  if (!limit)
    return 0;
  char *end;
  long v = strtol(limit, &end, 10);
  if (!*limit || *end || v < 1 || v > WEIR_QUERY_MAX_LIMIT) {
    weir_http_error(r, 400, "limit=%.32s: give 1 to %d", limit, WEIR_QUERY_MAX_LIMIT);
    return -1;
  }
  q->limit = (int)v;
  return 0;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A row of the store (window_store.h's layout) as a window: its key, start
 * and end. 0, or -1 when the bytes are not a row of that layout. */
static int decode_row(const weir_store_decl_t *d, const unsigned char *k, size_t kl, wrow_t *w) {
  size_t times = d->kind == WEIR_STORE_SESSION ? 16 : 8;
  if (kl < 12 + times)
    return -1;
  size_t klen = be32(k + 8);
  if (kl != 12 + klen + times)
    return -1;
  w->key = (unsigned char *)k + 12;
  w->key_len = klen;
  if (d->kind == WEIR_STORE_SESSION) {
    w->end = weir_wkey_time(k + 12 + klen);
    w->start = weir_wkey_time(k + 20 + klen);
  } else {
    w->start = weir_wkey_time(k + 12 + klen);
    w->end = w->start + d->window_size_ms;
  }
  return 0;
}

/* Whether window w answers the range: past retention never; a window by
 * its start, a session by overlap. */
static int in_range(const weir_store_decl_t *d, const range_t *q, int64_t oldest_end,
                    const wrow_t *w) {
  if (w->end < oldest_end)
    return 0;
  if (d->kind == WEIR_STORE_SESSION)
    return w->end >= q->from && w->start <= q->to;
  return w->start >= q->from && w->start <= q->to;
}

/* The segments that can hold an answer: a window's by its start, a
 * session's by its end (which has no upper bound but the stream time). */
static void segment_bounds(const weir_store_decl_t *d, const range_t *q, int64_t oldest_end,
                           unsigned char lo[8], unsigned char hi[8], int *bounded) {
  int64_t interval = weir_window_segment_interval(d->retention_ms);
  int64_t first = q->from; /* the smallest start (window) or end (session) */
  if (oldest_end != INT64_MIN) {
    int64_t live = d->kind == WEIR_STORE_SESSION ? oldest_end : oldest_end - d->window_size_ms;
    first = first > live ? first : live;
  }
  weir_wkey_put_time(lo, floor_div(first, interval));
  *bounded = d->kind != WEIR_STORE_SESSION;
  if (*bounded)
    weir_wkey_put_time(hi, floor_div(q->to, interval) + 1);
}

/* Gather partition p's windows in the range (only `key`'s when not NULL).
 * 0, or -1 with `r` set. */
static int gather(const weir_http_env_t *env, const weir_store_decl_t *d, int32_t p,
                  const range_t *q, const unsigned char *key, size_t key_len, wrows_t *rs,
                  weir_http_resp_t *r) {
  unsigned gen;
  unsigned char lo[8], hi[8];
  int bounded;
  if (weir_query_runs_here(env, d, p, &gen, r))
    return -1;
  int64_t stream_time =
      atomic_load(&weir_ownership_slot(env->owners, d->subtopology, p)->stream_time);
  int64_t oldest_end = stream_time >= 0 ? stream_time - d->retention_ms : INT64_MIN;
  segment_bounds(d, q, oldest_end, lo, hi, &bounded);
  weir_state_iter_t *it =
      weir_state_iter_range(env->state_db, d->name, p, lo, 8, bounded ? hi : NULL, bounded ? 8 : 0);
  if (!it) {
    weir_http_error(r, 500, "out of memory reading store '%s'", d->name);
    return -1;
  }
  const void *k, *v;
  size_t kl, vl;
  int rc;
  while ((rc = weir_state_iter_next(it, &k, &kl, &v, &vl)) == 1) {
    wrow_t w = {.value = (unsigned char *)v, .value_len = vl, .partition = p};
    if (decode_row(d, k, kl, &w) ||
        (key && (w.key_len != key_len || memcmp(w.key, key, key_len) != 0)) ||
        !in_range(d, q, oldest_end, &w))
      continue;
    if (rs->n >= MAX_GATHERED) {
      weir_http_error(r, 400, "more than %d windows of store '%s' in this range: narrow from/to",
                      MAX_GATHERED, d->name);
      weir_state_iter_close(it);
      return -1;
    }
    if (wrows_add(rs, &w)) {
      rc = -1;
      break;
    }
  }
  if (rc < 0)
    weir_http_error(r, 500, "reading store '%s' partition %d: %s", d->name, (int)p,
                    *weir_state_iter_error(it) ? weir_state_iter_error(it) : "out of memory");
  weir_state_iter_close(it);
  return rc < 0 ? -1 : weir_query_still_here(env, d, p, gen, r);
}

/* The sorted windows, at most q->limit, then "truncated". */
static void windows_out(const weir_store_decl_t *d, const range_t *q, wrows_t *rs, int with_key,
                        weir_http_resp_t *r) {
  if (rs->n) /* qsort takes no NULL array, even empty */
    qsort(rs->v, rs->n, sizeof *rs->v, wrow_cmp);
  size_t n = rs->n > (size_t)q->limit ? (size_t)q->limit : rs->n;
  weir_out_str(&r->body, ",\"windows\":[");
  for (size_t i = 0; i < n; i++) {
    const wrow_t *w = &rs->v[i];
    weir_out_str(&r->body, i ? ",{" : "{");
    if (with_key) {
      weir_out_str(&r->body, "\"key\":");
      weir_out_json_value(&r->body, d->key_serde, w->key, w->key_len);
      weir_out_printf(&r->body, ",\"partition\":%d,", (int)w->partition);
    }
    weir_out_printf(&r->body, "\"start\":%lld,\"end\":%lld,\"value\":", (long long)w->start,
                    (long long)w->end);
    weir_out_json_value(&r->body, d->value_serde, w->value, w->value_len);
    weir_out_str(&r->body, "}");
  }
  weir_out_printf(&r->body, "],\"truncated\":%s", rs->n > n ? "true" : "false");
}

static void one_key(const weir_http_env_t *env, const weir_http_req_t *req,
                    const weir_store_decl_t *d, const char *text, weir_http_resp_t *r) {
  unsigned char key[WEIR_QUERY_KEY_MAX];
  size_t len;
  int32_t p;
  range_t q;
  wrows_t rs = {0};
  if (parse_range(req, &q, r) || weir_query_parse_key(d, text, key, &len, "the key", r) ||
      weir_query_partition(env, d, key, len, &p, r))
    return;
  if (gather(env, d, p, &q, key, len, &rs, r)) {
    char tail[96];
    snprintf(tail, sizeof tail, "?from=%lld&to=%lld&limit=%d", (long long)q.from, (long long)q.to,
             q.limit);
    weir_query_forward(env, req, d, p, text, tail, r);
    wrows_free(&rs);
    return;
  }
  weir_query_answer_head(env, d, r);
  weir_out_str(&r->body, ",\"key\":");
  weir_out_json_value(&r->body, d->key_serde, key, len);
  weir_out_printf(&r->body, ",\"partition\":%d", (int)p);
  windows_out(d, &q, &rs, 0, r);
  weir_out_str(&r->body, "}\n");
  wrows_free(&rs);
}

typedef struct gather_all {
  const weir_http_env_t *env;
  const weir_store_decl_t *d;
  const range_t *q;
  wrows_t *rs;
  weir_http_resp_t *r;
} gather_all_t;

static int gather_one(int32_t p, void *arg) {
  gather_all_t *x = arg;
  return gather(x->env, x->d, p, x->q, NULL, 0, x->rs, x->r);
}

static void all_keys(const weir_http_env_t *env, const weir_http_req_t *req,
                     const weir_store_decl_t *d, weir_http_resp_t *r) {
  char here[4096] = "", elsewhere[4096] = "";
  range_t q;
  wrows_t rs = {0};
  if (parse_range(req, &q, r))
    return;
  gather_all_t x = {env, d, &q, &rs, r};
  if (weir_query_each_partition(env, d, gather_one, &x, here, sizeof here, elsewhere,
                                sizeof elsewhere, r) == 0) {
    weir_query_answer_head(env, d, r);
    windows_out(d, &q, &rs, 1, r);
    weir_out_printf(&r->body, ",\"partitions_here\":[%s],\"partitions_elsewhere\":[%s]}\n", here,
                    elsewhere);
  }
  wrows_free(&rs);
}

void weir_window_query_handle(const weir_http_env_t *env, const weir_http_req_t *req,
                              const weir_store_decl_t *d, const char *tail, weir_http_resp_t *r) {
  if (strncmp(tail, "/keys/", 6) == 0 && tail[6])
    one_key(env, req, d, tail + 6, r);
  else if (strcmp(tail, "/windows") == 0)
    all_keys(env, req, d, r);
  else
    weir_http_error(r, 404,
                    "no such query on %s store '%s': use /v1/stores/%s/keys/KEY?from=&to= or "
                    "/v1/stores/%s/windows?from=&to=",
                    d->type, d->name, d->name, d->name);
}
