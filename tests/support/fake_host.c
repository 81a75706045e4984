#include "support/fake_host.h"

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

static char *copy_str(const char *s) { return s ? strdup(s) : NULL; }

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
  if (!rec)
    return WEIR_EINVAL;
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

static const weir_origin_t *api_origin(weir_ctx_t *ctx) { return &host_of(ctx)->origin; }

static int64_t api_stream_time(weir_ctx_t *ctx) { return host_of(ctx)->stream_time; }

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

static size_t api_child_count(weir_ctx_t *ctx) { return host_of(ctx)->child_count; }

static const char *api_child_name(weir_ctx_t *ctx, size_t index) {
  fake_host_t *h = host_of(ctx);
  return index < h->child_count ? h->children[index] : NULL;
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
  h->ctx.struct_size = (uint32_t)sizeof h->ctx;
  h->ctx.api = &h->api;
  h->origin.struct_size = (uint32_t)sizeof h->origin;
  h->log_level = WEIR_LOG_DEBUG;
}

weir_ctx_t *fake_host_ctx(fake_host_t *h) { return &h->ctx; }

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

void fake_host_use_defs(fake_host_t *h, const weir_param_def_t *defs) { h->defs = defs; }

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

int fake_host_process(fake_host_t *h, const weir_operator_def_t *def, void *self,
                      const weir_record_t *rec) {
  return def->process(&h->ctx, self, rec);
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
