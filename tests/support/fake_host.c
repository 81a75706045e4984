#include "support/fake_host.h"
#include "task/record_abi.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

static fake_host_t *host_of(weir_ctx_t *ctx) {
  return (fake_host_t *)(void *)((char *)ctx - offsetof(fake_host_t, ctx));
}

/* A copy with a NUL after it, so tests can strcmp text values. */
static void *copy_bytes(const void *src, size_t len) {
  char *dst;
  if (!src)
    return NULL;
  dst = malloc(len + 1);
  if (!dst)
    return NULL;
  if (len)
    memcpy(dst, src, len);
  dst[len] = '\0';
  return dst;
}

static char *copy_str(const char *s) {
  return s ? strdup(s) : NULL;
}

static void store_call(fake_host_t *h);

/* ---------------------------------------------------------------- forwarding */

static int copy_headers(fake_record_t *r, const weir_record_t *rec) {
  if (rec->header_count == 0 || !rec->headers)
    return 0;
  r->headers = calloc(rec->header_count, sizeof *r->headers);
  if (!r->headers)
    return WEIR_ENOMEM;
  r->header_count = rec->header_count;
  for (size_t i = 0; i < rec->header_count; i++) {
    r->headers[i].name = copy_str(rec->headers[i].name);
    r->headers[i].value = copy_bytes(rec->headers[i].value, rec->headers[i].value_len);
    r->headers[i].value_len = rec->headers[i].value_len;
  }
  return 0;
}

static int capture(fake_host_t *h, const char *child, const weir_record_t *rec) {
  fake_record_t *r;
  /* As the real host (task/record_abi.h): a record below the 1.0 size is refused. */
  if (!rec || rec->struct_size < WEIR_RECORD_SIZE_1_0)
    return WEIR_EINVAL;
  /* The host runs the children inside weir_forward, and a child of the same
   * task may call a store before it reads the record: so a record must not
   * point at what a store call returned. Kill those bytes before copying. */
  store_call(h);
  if (h->record_count == h->record_cap) {
    size_t cap = h->record_cap ? h->record_cap * 2 : 16;
    fake_record_t *n = realloc(h->records, cap * sizeof *n);
    if (!n)
      return WEIR_ENOMEM;
    h->records = n;
    h->record_cap = cap;
  }
  r = &h->records[h->record_count++];
  memset(r, 0, sizeof *r);
  r->child = copy_str(child);
  r->key = copy_bytes(rec->key, rec->key_len);
  r->key_len = rec->key ? rec->key_len : 0;
  r->value = copy_bytes(rec->value, rec->value_len);
  r->value_len = rec->value ? rec->value_len : 0;
  r->timestamp = rec->timestamp;
  return copy_headers(r, rec);
}

static int api_forward(weir_ctx_t *ctx, const weir_record_t *rec) {
  fake_host_t *h = host_of(ctx);
  int rc = capture(h, NULL, rec);
  return rc ? rc : h->forward_rc;
}

static int api_forward_to(weir_ctx_t *ctx, const char *child, const weir_record_t *rec) {
  fake_host_t *h = host_of(ctx);
  int rc;
  size_t i = 0;
  while (child && i < h->child_count && strcmp(h->children[i], child) != 0)
    i++;
  if (!child || i == h->child_count)
    return WEIR_ENOENT;
  rc = capture(h, child, rec);
  return rc ? rc : h->forward_rc;
}

/* ---------------------------------------------------------------- params */

static const char *param_text(fake_host_t *h, const char *name) {
  for (size_t i = 0; name && i < h->param_count; i++)
    if (strcmp(h->param_names[i], name) == 0)
      return h->param_values[i];
  for (const weir_param_def_t *d = h->defs; name && d && d->name; d++)
    if (strcmp(d->name, name) == 0)
      return d->default_value;
  return NULL;
}

static const char *api_param_str(weir_ctx_t *ctx, const char *name) {
  return param_text(host_of(ctx), name);
}

static int64_t api_param_int(weir_ctx_t *ctx, const char *name) {
  const char *t = param_text(host_of(ctx), name);
  return t ? strtoll(t, NULL, 0) : 0;
}

static double api_param_double(weir_ctx_t *ctx, const char *name) {
  const char *t = param_text(host_of(ctx), name);
  return t ? strtod(t, NULL) : 0.0;
}

static int api_param_bool(weir_ctx_t *ctx, const char *name) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  const char *t = param_text(host_of(ctx), name);
  for (size_t i = 0; t && i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp(t, yes[i]) == 0)
      return 1;
  return 0;
}

/* ---------------------------------------------------------------- the rest */

static int api_log_enabled(weir_ctx_t *ctx, int level) {
  return level <= host_of(ctx)->log_level;
}

static void api_log(weir_ctx_t *ctx, int level, const char *message) {
  fake_host_t *h = host_of(ctx);
  if (h->log_count == h->log_cap) {
    size_t cap = h->log_cap ? h->log_cap * 2 : 16;
    fake_log_t *n = realloc(h->logs, cap * sizeof *n);
    if (!n)
      return;
    h->logs = n;
    h->log_cap = cap;
  }
  h->logs[h->log_count].level = level;
  h->logs[h->log_count].message = copy_str(message ? message : "");
  h->log_count++;
}

static const weir_origin_t *api_origin(weir_ctx_t *ctx) {
  return &host_of(ctx)->origin;
}

static int64_t api_stream_time(weir_ctx_t *ctx) {
  return host_of(ctx)->stream_time;
}

static void api_metric_add(weir_ctx_t *ctx, const char *name, int64_t delta) {
  fake_host_t *h = host_of(ctx);
  fake_metric_t *n;
  for (size_t i = 0; i < h->metric_count; i++) {
    if (strcmp(h->metrics[i].name, name) == 0) {
      h->metrics[i].value += delta;
      return;
    }
  }
  n = realloc(h->metrics, (h->metric_count + 1) * sizeof *n);
  if (!n)
    return;
  h->metrics = n;
  h->metrics[h->metric_count].name = copy_str(name);
  h->metrics[h->metric_count].value = delta;
  h->metric_count++;
}

static const char *api_node_name(weir_ctx_t *ctx) {
  fake_host_t *h = host_of(ctx);
  return h->node_name ? h->node_name : "node";
}

static const char *api_task_id(weir_ctx_t *ctx) {
  fake_host_t *h = host_of(ctx);
  return h->task_id ? h->task_id : "0_0";
}

static size_t api_child_count(weir_ctx_t *ctx) {
  return host_of(ctx)->child_count;
}

static const char *api_child_name(weir_ctx_t *ctx, size_t index) {
  fake_host_t *h = host_of(ctx);
  return index < h->child_count ? h->children[index] : NULL;
}

/* ---------------------------------------------------------------- stores */

typedef struct fake_row {
  void *key;
  size_t key_len;
  void *value; /* never NULL, even for an empty value */
  size_t value_len;
} fake_row_t;

struct fake_store {
  weir_store_t handle; /* first: the API finds the store from its handle */
  fake_host_t *host;
  char *name;
  fake_row_t *rows; /* sorted by key */
  size_t count, cap;
};

struct fake_iter {
  weir_iter_t handle; /* first, as for stores */
  fake_store_t *store;
  fake_iter_t *next_open;
  void *from; /* the next key is >= from (> from once `after`), NULL = the first */
  size_t from_len;
  int after;
  void *to; /* range: keys < to; NULL = no end */
  size_t to_len;
  void *prefix; /* prefix iteration: keys starting with it */
  size_t prefix_len;
  int is_prefix;
};

static fake_store_t *store_of(weir_store_t *s) {
  return (fake_store_t *)(void *)s;
}
static fake_iter_t *iter_of(weir_iter_t *it) {
  return (fake_iter_t *)(void *)it;
}

static int key_cmp(const void *a, size_t a_len, const void *b, size_t b_len) {
  size_t n = a_len < b_len ? a_len : b_len;
  int c = n ? memcmp(a, b, n) : 0;
  if (c)
    return c;
  return a_len < b_len ? -1 : a_len > b_len;
}

/* An exact-size heap copy (1 byte for an empty one), so ASan catches a read
 * past the end; NULL src gives NULL. */
static void *dup_exact(const void *src, size_t len) {
  void *p;
  if (!src)
    return NULL;
  p = malloc(len ? len : 1);
  if (p && len)
    memcpy(p, src, len);
  return p;
}

/* Every store call starts here: what the previous one returned dies now,
 * which is the longest weir.h lets an operator keep it. */
static void store_call(fake_host_t *h) {
  free(h->lent_key);
  free(h->lent_value);
  h->lent_key = NULL;
  h->lent_value = NULL;
  h->store_calls++;
}

/* The first row >= key (> key when `after`). */
static size_t lower_bound(const fake_store_t *s, const void *key, size_t key_len, int after) {
  size_t lo = 0, hi = s->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = key_cmp(s->rows[mid].key, s->rows[mid].key_len, key, key_len);
    if (c < 0 || (after && c == 0))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int row_found(const fake_store_t *s, size_t i, const void *key, size_t key_len) {
  return i < s->count && key_cmp(s->rows[i].key, s->rows[i].key_len, key, key_len) == 0;
}

static weir_store_t *api_store_get(weir_ctx_t *ctx, const char *name) {
  fake_host_t *h = host_of(ctx);
  store_call(h);
  return fake_host_store(h, name);
}

static int api_kv_get(weir_store_t *store, const void *key, size_t key_len, const void **value,
                      size_t *value_len) {
  fake_store_t *s = store_of(store);
  size_t i;
  store_call(s->host);
  if (!key && key_len)
    return WEIR_EINVAL;
  i = lower_bound(s, key, key_len, 0);
  if (!row_found(s, i, key, key_len))
    return WEIR_ENOENT;
  s->host->lent_value = dup_exact(s->rows[i].value, s->rows[i].value_len);
  if (!s->host->lent_value)
    return WEIR_ENOMEM;
  *value = s->host->lent_value;
  *value_len = s->rows[i].value_len;
  return WEIR_OK;
}

static int store_grow(fake_store_t *s) {
  size_t cap;
  fake_row_t *rows;
  if (s->count < s->cap)
    return WEIR_OK;
  cap = s->cap ? s->cap * 2 : 16;
  rows = realloc(s->rows, cap * sizeof *rows);
  if (!rows)
    return WEIR_ENOMEM;
  s->rows = rows;
  s->cap = cap;
  return WEIR_OK;
}

static int api_kv_put(weir_store_t *store, const void *key, size_t key_len, const void *value,
                      size_t value_len) {
  fake_store_t *s = store_of(store);
  size_t i;
  void *v;
  store_call(s->host);
  if ((!key && key_len) || (!value && value_len))
    return WEIR_EINVAL;
  v = dup_exact(value ? value : "", value_len);
  i = lower_bound(s, key, key_len, 0);
  if (v && row_found(s, i, key, key_len)) {
    free(s->rows[i].value);
    s->rows[i].value = v;
    s->rows[i].value_len = value_len;
    return WEIR_OK;
  }
  fake_row_t row = {dup_exact(key ? key : "", key_len), key_len, v, value_len};
  if (!v || !row.key || store_grow(s) != WEIR_OK) {
    free(v);
    free(row.key);
    return WEIR_ENOMEM;
  }
  memmove(&s->rows[i + 1], &s->rows[i], (s->count - i) * sizeof *s->rows);
  s->rows[i] = row;
  s->count++;
  return WEIR_OK;
}

static int api_kv_delete(weir_store_t *store, const void *key, size_t key_len) {
  fake_store_t *s = store_of(store);
  size_t i;
  store_call(s->host);
  if (!key && key_len)
    return WEIR_EINVAL;
  i = lower_bound(s, key, key_len, 0);
  if (!row_found(s, i, key, key_len))
    return WEIR_OK;
  free(s->rows[i].key);
  free(s->rows[i].value);
  memmove(&s->rows[i], &s->rows[i + 1], (s->count - i - 1) * sizeof *s->rows);
  s->count--;
  return WEIR_OK;
}

static fake_iter_t *iter_open(fake_store_t *s) {
  fake_iter_t *it = calloc(1, sizeof *it);
  if (!it)
    return NULL;
  it->handle.struct_size = (uint32_t)sizeof it->handle;
  it->handle.api = &s->host->api;
  it->store = s;
  it->next_open = s->host->iters;
  s->host->iters = it;
  s->host->open_iters++;
  return it;
}

static void iter_free(fake_iter_t *it) {
  free(it->from);
  free(it->to);
  free(it->prefix);
  free(it);
}

static weir_iter_t *api_kv_range(weir_store_t *store, const void *from, size_t from_len,
                                 const void *to, size_t to_len) {
  fake_store_t *s = store_of(store);
  fake_iter_t *it;
  store_call(s->host);
  it = iter_open(s);
  if (!it)
    return NULL;
  it->from = dup_exact(from, from_len);
  it->from_len = from ? from_len : 0;
  it->to = dup_exact(to, to_len);
  it->to_len = to ? to_len : 0;
  return &it->handle;
}

static weir_iter_t *api_kv_prefix(weir_store_t *store, const void *prefix, size_t prefix_len) {
  fake_store_t *s = store_of(store);
  fake_iter_t *it;
  store_call(s->host);
  it = iter_open(s);
  if (!it)
    return NULL;
  it->is_prefix = 1;
  it->prefix = dup_exact(prefix ? prefix : "", prefix_len);
  it->prefix_len = prefix_len;
  it->from = dup_exact(prefix ? prefix : "", prefix_len);
  it->from_len = prefix_len;
  return &it->handle;
}

/* Whether row i is still inside the iterator's range. */
static int iter_in_range(const fake_iter_t *it, const fake_row_t *r) {
  if (it->is_prefix)
    return r->key_len >= it->prefix_len &&
           (it->prefix_len == 0 || memcmp(r->key, it->prefix, it->prefix_len) == 0);
  return !it->to || key_cmp(r->key, r->key_len, it->to, it->to_len) < 0;
}

static int api_iter_next(weir_iter_t *iter, const void **key, size_t *key_len, const void **value,
                         size_t *value_len) {
  fake_iter_t *it = iter_of(iter);
  fake_store_t *s = it->store;
  fake_host_t *h = s->host;
  size_t i;
  fake_row_t *r;
  store_call(h);
  i = it->from ? lower_bound(s, it->from, it->from_len, it->after) : 0;
  if (i >= s->count || !iter_in_range(it, &s->rows[i]))
    return WEIR_ENOENT;
  r = &s->rows[i];
  /* Resume after this key next time, whatever is written meanwhile. */
  free(it->from);
  it->from = dup_exact(r->key, r->key_len);
  it->from_len = r->key_len;
  it->after = 1;
  h->lent_key = dup_exact(r->key, r->key_len);
  h->lent_value = dup_exact(r->value, r->value_len);
  if (!it->from || !h->lent_key || !h->lent_value)
    return WEIR_ENOMEM;
  *key = h->lent_key;
  *key_len = r->key_len;
  *value = h->lent_value;
  *value_len = r->value_len;
  return WEIR_OK;
}

static void api_iter_close(weir_iter_t *iter) {
  fake_iter_t *it = iter_of(iter);
  fake_host_t *h = it->store->host;
  store_call(h);
  for (fake_iter_t **pp = &h->iters; *pp; pp = &(*pp)->next_open) {
    if (*pp == it) {
      *pp = it->next_open;
      break;
    }
  }
  h->open_iters--;
  iter_free(it);
}

weir_store_t *fake_host_add_store(fake_host_t *h, const char *name) {
  fake_store_t **n = realloc(h->stores, (h->store_count + 1) * sizeof *n);
  fake_store_t *s;
  if (!n)
    return NULL;
  h->stores = n;
  s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->name = strdup(name);
  if (!s->name) {
    free(s);
    return NULL;
  }
  s->handle.struct_size = (uint32_t)sizeof s->handle;
  s->handle.api = &h->api;
  s->host = h;
  h->stores[h->store_count++] = s;
  return &s->handle;
}

weir_store_t *fake_host_store(fake_host_t *h, const char *name) {
  for (size_t i = 0; i < h->store_count; i++)
    if (!name || strcmp(h->stores[i]->name, name) == 0)
      return &h->stores[i]->handle;
  return NULL;
}

size_t fake_store_size(const weir_store_t *store) {
  return ((const fake_store_t *)(const void *)store)->count;
}

static void free_stores(fake_host_t *h) {
  while (h->iters) {
    fake_iter_t *it = h->iters;
    h->iters = it->next_open;
    iter_free(it);
  }
  for (size_t i = 0; i < h->store_count; i++) {
    fake_store_t *s = h->stores[i];
    for (size_t j = 0; j < s->count; j++) {
      free(s->rows[j].key);
      free(s->rows[j].value);
    }
    free(s->rows);
    free(s->name);
    free(s);
  }
  free(h->stores);
  free(h->lent_key);
  free(h->lent_value);
}

/* ---------------------------------------------------------------- setup */

void fake_host_init(fake_host_t *h) {
  memset(h, 0, sizeof *h);
  h->api.struct_size = (uint32_t)sizeof h->api;
  h->api.abi_major = WEIR_ABI_MAJOR;
  h->api.abi_minor = WEIR_ABI_MINOR;
  h->api.forward = api_forward;
  h->api.forward_to = api_forward_to;
  h->api.param_str = api_param_str;
  h->api.param_int = api_param_int;
  h->api.param_double = api_param_double;
  h->api.param_bool = api_param_bool;
  h->api.log_enabled = api_log_enabled;
  h->api.log = api_log;
  h->api.origin = api_origin;
  h->api.stream_time = api_stream_time;
  h->api.metric_add = api_metric_add;
  h->api.node_name = api_node_name;
  h->api.task_id = api_task_id;
  h->api.child_count = api_child_count;
  h->api.child_name = api_child_name;
  h->api.store_get = api_store_get;
  h->api.kv_get = api_kv_get;
  h->api.kv_put = api_kv_put;
  h->api.kv_delete = api_kv_delete;
  h->api.kv_range = api_kv_range;
  h->api.kv_prefix = api_kv_prefix;
  h->api.iter_next = api_iter_next;
  h->api.iter_close = api_iter_close;
  h->ctx.struct_size = (uint32_t)sizeof h->ctx;
  h->ctx.api = &h->api;
  h->origin.struct_size = (uint32_t)sizeof h->origin;
  h->log_level = WEIR_LOG_DEBUG;
}

weir_ctx_t *fake_host_ctx(fake_host_t *h) {
  return &h->ctx;
}

static void free_record(fake_record_t *r) {
  for (size_t i = 0; i < r->header_count; i++) {
    free(r->headers[i].name);
    free(r->headers[i].value);
  }
  free(r->headers);
  free(r->child);
  free(r->key);
  free(r->value);
}

void fake_host_clear(fake_host_t *h) {
  for (size_t i = 0; i < h->record_count; i++)
    free_record(&h->records[i]);
  h->record_count = 0;
  for (size_t i = 0; i < h->log_count; i++)
    free(h->logs[i].message);
  h->log_count = 0;
}

void fake_host_free(fake_host_t *h) {
  fake_host_clear(h);
  free(h->records);
  free(h->logs);
  for (size_t i = 0; i < h->param_count; i++) {
    free(h->param_names[i]);
    free(h->param_values[i]);
  }
  free(h->param_names);
  free(h->param_values);
  for (size_t i = 0; i < h->child_count; i++)
    free(h->children[i]);
  free(h->children);
  for (size_t i = 0; i < h->metric_count; i++)
    free(h->metrics[i].name);
  free(h->metrics);
  free(h->origin_topic);
  free(h->node_name);
  free(h->task_id);
  free_stores(h);
  memset(h, 0, sizeof *h);
}

static ssize_t find_param(const fake_host_t *h, const char *name) {
  for (size_t i = 0; i < h->param_count; i++)
    if (strcmp(h->param_names[i], name) == 0)
      return (ssize_t)i;
  return -1;
}

static int append_param(fake_host_t *h, const char *name, const char *value) {
  size_t n = h->param_count + 1;
  char **names = realloc(h->param_names, n * sizeof *names);
  char **values;
  if (!names)
    return -1;
  h->param_names = names;
  values = realloc(h->param_values, n * sizeof *values);
  if (!values)
    return -1;
  h->param_values = values;
  names[h->param_count] = strdup(name);
  values[h->param_count] = strdup(value);
  if (!names[h->param_count] || !values[h->param_count]) {
    free(names[h->param_count]);
    free(values[h->param_count]);
    return -1;
  }
  h->param_count = n;
  return 0;
}

int fake_host_set_param(fake_host_t *h, const char *name, const char *value) {
  ssize_t i = find_param(h, name);
  char *copy;
  if (i < 0)
    return append_param(h, name, value);
  copy = strdup(value);
  if (!copy)
    return -1;
  free(h->param_values[i]);
  h->param_values[i] = copy;
  return 0;
}

int fake_host_add_param(fake_host_t *h, const char *name, const char *value) {
  ssize_t i = find_param(h, name);
  size_t old, add;
  char *joined;
  if (i < 0)
    return append_param(h, name, value);
  old = strlen(h->param_values[i]);
  add = strlen(value);
  joined = realloc(h->param_values[i], old + add + 2);
  if (!joined)
    return -1;
  joined[old] = '\n';
  memcpy(joined + old + 1, value, add + 1);
  h->param_values[i] = joined;
  return 0;
}

void fake_host_use_defs(fake_host_t *h, const weir_param_def_t *defs) {
  h->defs = defs;
}

int fake_host_add_child(fake_host_t *h, const char *name) {
  char **n = realloc(h->children, (h->child_count + 1) * sizeof *n);
  if (!n)
    return -1;
  h->children = n;
  n[h->child_count] = strdup(name);
  if (!n[h->child_count])
    return -1;
  h->child_count++;
  return 0;
}

int fake_host_set_origin(fake_host_t *h, const char *topic, int32_t partition, int64_t offset) {
  char *copy = copy_str(topic);
  if (topic && !copy)
    return -1;
  free(h->origin_topic);
  h->origin_topic = copy;
  h->origin.topic = copy;
  h->origin.partition = partition;
  h->origin.offset = offset;
  return 0;
}

static int replace_str(char **slot, const char *s) {
  char *copy = copy_str(s);
  if (s && !copy)
    return -1;
  free(*slot);
  *slot = copy;
  return 0;
}

int fake_host_set_node(fake_host_t *h, const char *node_name, const char *task_id) {
  return replace_str(&h->node_name, node_name) | replace_str(&h->task_id, task_id);
}

/* Iterators must be closed before a callback returns (weir.h). */
static void count_leaks(fake_host_t *h, size_t open_before) {
  if (h->open_iters > open_before)
    h->leaked_iters += h->open_iters - open_before;
}

int fake_host_process(fake_host_t *h, const weir_operator_def_t *def, void *self,
                      const weir_record_t *rec) {
  size_t open = h->open_iters;
  int rc;
  if (rec && rec->timestamp > h->stream_time)
    h->stream_time = rec->timestamp;
  rc = def->process(&h->ctx, self, rec);
  count_leaks(h, open);
  return rc;
}

int fake_host_flush(fake_host_t *h, const weir_operator_def_t *def, void *self) {
  size_t open = h->open_iters;
  int rc;
  if (!def->flush)
    return WEIR_OK;
  rc = def->flush(&h->ctx, self);
  count_leaks(h, open);
  return rc;
}

int fake_host_process_kv(fake_host_t *h, const weir_operator_def_t *def, void *self,
                         const char *key, const char *value, int64_t timestamp) {
  weir_record_t rec = WEIR_RECORD_INIT;
  rec.key = key;
  rec.key_len = key ? strlen(key) : 0;
  rec.value = value;
  rec.value_len = value ? strlen(value) : 0;
  rec.timestamp = timestamp;
  return fake_host_process(h, def, self, &rec);
}

int64_t fake_host_metric(const fake_host_t *h, const char *name) {
  for (size_t i = 0; i < h->metric_count; i++)
    if (strcmp(h->metrics[i].name, name) == 0)
      return h->metrics[i].value;
  return 0;
}

const fake_log_t *fake_host_find_log(const fake_host_t *h, const char *needle) {
  for (size_t i = 0; i < h->log_count; i++)
    if (strstr(h->logs[i].message, needle))
      return &h->logs[i];
  return NULL;
}
