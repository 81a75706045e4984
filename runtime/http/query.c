#include "http/query.h"

#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

#include "http/query_common.h"
#include "http/window_query.h"
#include "state/global_store.h"

enum { DEFAULT_LIMIT = 100 };

typedef struct row {
  unsigned char *key;
  size_t key_len;
  unsigned char *value;
  size_t value_len;
  int32_t partition;
} row_t;

static void list_stores(const weir_http_env_t *env, weir_http_resp_t *r) {
  const weir_topology_t *t = env->topo;
  weir_out_str(&r->body, "{\"stores\":[");
  for (size_t i = 0; i < t->store_count; i++) {
    const weir_store_decl_t *d = &t->stores[i];
    int parts = d->subtopology >= 0 ? env->owners->partitions[d->subtopology] : 0;
    weir_out_str(&r->body, i ? ",{\"name\":" : "{\"name\":");
    weir_out_json_string(&r->body, d->name, strlen(d->name));
    weir_out_str(&r->body, ",\"type\":");
    weir_out_json_string(&r->body, d->type, strlen(d->type));
    weir_out_printf(&r->body,
                    ",\"key_serde\":\"%s\",\"value_serde\":\"%s\",\"global\":%s,\"partitions\":%d,",
                    weir_serde_name(d->key_serde), weir_serde_name(d->value_serde),
                    d->global_topic ? "true" : "false", parts);
    weir_out_str(&r->body, "\"running_here\":[");
    for (int p = 0, n = 0; p < parts; p++) {
      weir_own_slot_t *s = weir_ownership_slot(env->owners, d->subtopology, p);
      if (s && atomic_load(&s->state) == WEIR_OWN_RUNNING)
        weir_out_printf(&r->body, "%s%d", n++ ? "," : "", p);
    }
    weir_out_str(&r->body, "]}");
  }
  weir_out_str(&r->body, "]}\n");
}

static void get_key(const weir_http_env_t *env, const weir_http_req_t *req,
                    const weir_store_decl_t *d, const char *text, weir_http_resp_t *r) {
  unsigned char key[WEIR_QUERY_KEY_MAX];
  size_t len;
  char why[512];
  unsigned gen;
  void *value = NULL;
  size_t value_len = 0;
  int32_t p = WEIR_GLOBAL_PARTITION;
  int global = d->global_topic != NULL; /* every instance holds all of it */
  if (weir_query_parse_key(d, text, key, &len, "the key", r) ||
      (!global && weir_query_partition(env, d, key, len, &p, r)))
    return;
  if (!global && weir_query_runs_here(env, d, p, &gen, r)) {
    weir_query_forward(env, req, d, p, text, NULL, r);
    return;
  }
  int rc =
      weir_state_db_get(env->state_db, d->name, p, key, len, &value, &value_len, why, sizeof why);
  if (!global && weir_query_still_here(env, d, p, gen, r)) {
    free(value);
    return;
  }
  if (rc < 0)
    weir_http_error(r, 500, "%s", why);
  else if (rc == 0)
    weir_http_error(r, 404, "store '%s' has no key %s (partition %d)", d->name, text, (int)p);
  if (rc <= 0)
    return;
  weir_query_answer_head(env, d, r);
  weir_out_str(&r->body, ",\"key\":");
  weir_out_json_value(&r->body, d->key_serde, key, len);
  weir_out_str(&r->body, ",\"value\":");
  weir_out_json_value(&r->body, d->value_serde, value, value_len);
  weir_out_printf(&r->body, ",\"partition\":%d}\n", (int)p);
  free(value);
}

typedef struct rows {
  row_t *v;
  size_t n, cap;
} rows_t;

static void rows_free(rows_t *rs) {
  for (size_t i = 0; i < rs->n; i++) {
    free(rs->v[i].key);
    free(rs->v[i].value);
  }
  free(rs->v);
}

static int rows_add(rows_t *rs, const void *k, size_t kl, const void *v, size_t vl, int32_t p) {
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 64;
    row_t *grown = realloc(rs->v, cap * sizeof *grown);
    if (!grown)
      return -1;
    rs->v = grown;
    rs->cap = cap;
  }
  row_t *row = &rs->v[rs->n];
  row->key = malloc(kl + 1);
  row->value = malloc(vl + 1);
  if (!row->key || !row->value) {
    free(row->key);
    free(row->value);
    return -1;
  }
  memcpy(row->key, k, kl);
  memcpy(row->value, v, vl);
  row->key_len = kl;
  row->value_len = vl;
  row->partition = p;
  rs->n++;
  return 0;
}

static int row_cmp(const void *a, const void *b) {
  const row_t *x = a, *y = b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* The page's bounds: [lo, hi) over the store's keys, hi_len < 0 = none. */
typedef struct bounds {
  unsigned char lo[WEIR_QUERY_KEY_MAX + 1], hi[WEIR_QUERY_KEY_MAX + 1];
  size_t lo_len;
  long hi_len;
  int limit;
} bounds_t;

/* The smallest key above every key starting with `b` (len bytes): the
 * prefix with its last byte below 0xff incremented; -1 when none. */
static long successor(unsigned char *b, size_t len) {
  while (len && b[len - 1] == 0xff)
    len--;
  if (!len)
    return -1;
  b[len - 1]++;
  return (long)len;
}

static int parse_limit(const weir_http_req_t *req, bounds_t *b, weir_http_resp_t *r) {
  const char *text = weir_http_arg(req, "limit");
  char *end;
  b->limit = DEFAULT_LIMIT;
  if (!text)
    return 0;
  long v = strtol(text, &end, 10);
  if (!*text || *end || v < 1 || v > WEIR_QUERY_MAX_LIMIT) {
    weir_http_error(r, 400, "limit=%.32s: give 1 to %d", text, WEIR_QUERY_MAX_LIMIT);
    return -1;
  }
  b->limit = (int)v;
  return 0;
}

/* Raise the lower bound to just above the cursor (the last key of the
 * previous page, in hex). */
static int apply_cursor(const weir_http_req_t *req, bounds_t *b, weir_http_resp_t *r) {
  unsigned char after[WEIR_QUERY_KEY_MAX + 1];
  const char *hex = weir_http_arg(req, "cursor");
  if (!hex)
    return 0;
  long n = weir_hex_decode(hex, after, WEIR_QUERY_KEY_MAX);
  if (n < 0) {
    weir_http_error(r, 400, "cursor: not one this server gave (hex of at most %d bytes)",
                    WEIR_QUERY_KEY_MAX);
    return -1;
  }
  after[n] = 0; /* key + "\0": the first key after it */
  row_t x = {.key = after, .key_len = (size_t)n + 1}, y = {.key = b->lo, .key_len = b->lo_len};
  if (row_cmp(&x, &y) > 0) {
    memcpy(b->lo, after, (size_t)n + 1);
    b->lo_len = (size_t)n + 1;
  }
  return 0;
}

static int parse_bounds(const weir_store_decl_t *d, const weir_http_req_t *req, bounds_t *b,
                        weir_http_resp_t *r) {
  const char *from = weir_http_arg(req, "from"), *to = weir_http_arg(req, "to");
  const char *prefix = weir_http_arg(req, "prefix");
  b->lo_len = 0;
  b->hi_len = -1;
  if (prefix && (from || to)) {
    weir_http_error(r, 400, "give prefix= or from=/to=, not both");
    return -1;
  }
  if (prefix) {
    if (weir_query_parse_key(d, prefix, b->lo, &b->lo_len, "prefix", r))
      return -1;
    memcpy(b->hi, b->lo, b->lo_len);
    b->hi_len = successor(b->hi, b->lo_len);
  }
  if (from && weir_query_parse_key(d, from, b->lo, &b->lo_len, "from", r))
    return -1;
  size_t hl = 0;
  if (to && weir_query_parse_key(d, to, b->hi, &hl, "to", r))
    return -1;
  if (to)
    b->hi_len = (long)hl;
  return parse_limit(req, b, r) || apply_cursor(req, b, r) ? -1 : 0;
}

/* Up to limit + 1 rows of one partition (one more tells whether a next
 * page exists). 0, or -1 with `r` set. */
static int collect(const weir_http_env_t *env, const weir_store_decl_t *d, int32_t p,
                   const bounds_t *b, rows_t *rs, weir_http_resp_t *r) {
  unsigned gen = 0;
  int global = d->global_topic != NULL;
  if (!global && weir_query_runs_here(env, d, p, &gen, r))
    return -1;
  weir_state_iter_t *it =
      weir_state_iter_range(env->state_db, d->name, p, b->lo_len ? b->lo : NULL, b->lo_len,
                            b->hi_len >= 0 ? b->hi : NULL, b->hi_len >= 0 ? (size_t)b->hi_len : 0);
  if (!it) {
    weir_http_error(r, 500, "out of memory reading store '%s'", d->name);
    return -1;
  }
  const void *k, *v;
  size_t kl, vl;
  int rc = 0, got = 0;
  while (got <= b->limit && (rc = weir_state_iter_next(it, &k, &kl, &v, &vl)) == 1 &&
         (rc = rows_add(rs, k, kl, v, vl, p)) == 0)
    got++;
  if (rc < 0)
    weir_http_error(r, 500, "reading store '%s' partition %d: %s", d->name, (int)p,
                    *weir_state_iter_error(it) ? weir_state_iter_error(it) : "out of memory");
  weir_state_iter_close(it);
  return rc < 0 ? -1 : global ? 0 : weir_query_still_here(env, d, p, gen, r);
}

static void range_answer(const weir_http_env_t *env, const weir_store_decl_t *d, const bounds_t *b,
                         rows_t *rs, const char *here, const char *elsewhere, weir_http_resp_t *r) {
  if (rs->n) /* qsort takes no NULL array, even empty */
    qsort(rs->v, rs->n, sizeof *rs->v, row_cmp);
  size_t n = rs->n > (size_t)b->limit ? (size_t)b->limit : rs->n;
  weir_query_answer_head(env, d, r);
  weir_out_str(&r->body, ",\"rows\":[");
  for (size_t i = 0; i < n; i++) {
    weir_out_str(&r->body, i ? ",{\"key\":" : "{\"key\":");
    weir_out_json_value(&r->body, d->key_serde, rs->v[i].key, rs->v[i].key_len);
    weir_out_str(&r->body, ",\"value\":");
    weir_out_json_value(&r->body, d->value_serde, rs->v[i].value, rs->v[i].value_len);
    weir_out_printf(&r->body, ",\"partition\":%d}", (int)rs->v[i].partition);
  }
  weir_out_str(&r->body, "],\"next_cursor\":");
  if (rs->n > n) {
    weir_out_str(&r->body, "\"");
    weir_out_hex(&r->body, rs->v[n - 1].key, rs->v[n - 1].key_len);
    weir_out_str(&r->body, "\"");
  } else {
    weir_out_str(&r->body, "null");
  }
  weir_out_printf(&r->body, ",\"partitions_here\":[%s],\"partitions_elsewhere\":[%s]}\n", here,
                  elsewhere);
}

typedef struct range_read {
  const weir_http_env_t *env;
  const weir_store_decl_t *d;
  const bounds_t *b;
  rows_t *rs;
  weir_http_resp_t *r;
} range_read_t;

static int range_read(int32_t p, void *arg) {
  range_read_t *x = arg;
  return collect(x->env, x->d, p, x->b, x->rs, x->r);
}

static void range(const weir_http_env_t *env, const weir_store_decl_t *d,
                  const weir_http_req_t *req, weir_http_resp_t *r) {
  static _Thread_local bounds_t b; /* 8 KB: off the polling thread's stack */
  char here[4096] = "", elsewhere[4096] = "";
  rows_t rs = {0};
  if (parse_bounds(d, req, &b, r))
    return;
  if (d->global_topic) { /* this instance's copy of the whole table */
    if (collect(env, d, WEIR_GLOBAL_PARTITION, &b, &rs, r) == 0)
      range_answer(env, d, &b, &rs, "", "", r);
    rows_free(&rs);
    return;
  }
  range_read_t x = {env, d, &b, &rs, r};
  if (weir_query_each_partition(env, d, range_read, &x, here, sizeof here, elsewhere,
                                sizeof elsewhere, r) == 0)
    range_answer(env, d, &b, &rs, here, elsewhere, r);
  rows_free(&rs);
}

void weir_query_handle(const weir_http_env_t *env, const weir_http_req_t *req, const char *rest,
                       weir_http_resp_t *r) {
  if (!*rest || strcmp(rest, "/") == 0) {
    list_stores(env, r);
    return;
  }
  const char *name = rest + 1;
  size_t name_len = strcspn(name, "/");
  const char *tail = name + name_len;
  const weir_store_decl_t *d = weir_query_find_store(env, name, name_len, r);
  if (!d)
    return;
  if (d->kind != WEIR_STORE_KV)
    weir_window_query_handle(env, req, d, tail, r);
  else if (strncmp(tail, "/keys/", 6) == 0 && tail[6])
    get_key(env, req, d, tail + 6, r);
  else if (strcmp(tail, "/range") == 0)
    range(env, d, req, r);
  else
    weir_http_error(r, 404, "no such query: use /v1/stores/%s/keys/KEY or /v1/stores/%s/range",
                    d->name, d->name);
}
