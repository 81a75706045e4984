/* A plugin as written in the ABI 1.0 days, compiled only against the frozen
 * 1.0 header (tests/abi/include-1.0). Its operator "tag" forwards each
 * record with `prefix` put before the value and, when `with_origin` is set,
 * "@topic/partition/offset" after it. Tombstones pass through untouched.
 * Keep it stable: it stands for every 1.0 plugin in the field. */
#include <stdlib.h>
#include <string.h>
#include <weir/weir.h>

#if WEIR_ABI_MAJOR != 1 || WEIR_ABI_MINOR != 0
#error "abi_v1_0_plugin must be built against the frozen 1.0 header"
#endif

typedef struct tag {
  const char *prefix; /* the host's copy, valid until close() */
  size_t prefix_len;
  int with_origin;
  size_t max_len;
  char *buf; /* max_len bytes, reused for every record */
} tag_t;

static int tag_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  tag_t *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  t->prefix = weir_param_str(ctx, "prefix");
  t->prefix = t->prefix ? t->prefix : "";
  t->prefix_len = strlen(t->prefix);
  t->with_origin = weir_param_bool(ctx, "with_origin");
  t->max_len = (size_t)weir_param_int(ctx, "max_len");
  t->buf = malloc(t->max_len);
  if (!t->buf) {
    snprintf(errstr, errstr_size, "out of memory for max_len %zu", t->max_len);
    free(t);
    return WEIR_ENOMEM;
  }
  weir_log(ctx, WEIR_LOG_INFO, "tag ready: prefix '%s', origin %s, max_len %zu", t->prefix,
           t->with_origin ? "on" : "off", t->max_len);
  *self = t;
  return WEIR_OK;
}

static int append_origin(weir_ctx_t *ctx, tag_t *t, size_t len, size_t *out_len) {
  const weir_origin_t *o = weir_origin(ctx);
  int n;
  if (!o || !o->topic) {
    *out_len = len;
    return WEIR_OK;
  }
  n = snprintf(t->buf + len, t->max_len - len, "@%s/%d/%lld", o->topic, (int)o->partition,
               (long long)o->offset);
  if (n < 0 || (size_t)n >= t->max_len - len)
    return WEIR_ERANGE;
  *out_len = len + (size_t)n;
  return WEIR_OK;
}

static int tag_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  tag_t *t = self;
  weir_record_t out = *rec; /* key, timestamp, headers pass through */
  size_t len = t->prefix_len + rec->value_len;
  if (!rec->value)
    return weir_forward(ctx, rec);
  if (len >= t->max_len) {
    weir_log(ctx, WEIR_LOG_WARN, "value of %zu bytes too long for max_len %zu", rec->value_len,
             t->max_len);
    return WEIR_ERANGE;
  }
  memcpy(t->buf, t->prefix, t->prefix_len);
  memcpy(t->buf + t->prefix_len, rec->value, rec->value_len);
  if (t->with_origin && append_origin(ctx, t, len, &len) != WEIR_OK)
    return WEIR_ERANGE;
  out.struct_size = (uint32_t)sizeof out;
  out.value = t->buf;
  out.value_len = len;
  weir_metric_add(ctx, "tagged", 1);
  return weir_forward(ctx, &out);
}

static void tag_close(weir_ctx_t *ctx, void *self) {
  tag_t *t = self;
  (void)ctx;
  free(t->buf);
  free(t);
}

static const weir_param_def_t tag_params[] = {
    WEIR_PARAM_STR("prefix", "v1:", "Text put before each value"),
    WEIR_PARAM_BOOL("with_origin", "false", "Append @topic/partition/offset to each value"),
    WEIR_PARAM_INT("max_len", "256", 1, 65536, "Longest output value, in bytes"),
    WEIR_PARAM_END,
};

static const weir_operator_def_t tag_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "tag",
    .doc = "Prefix each value (the ABI 1.0 compatibility plugin)",
    .params = tag_params,
    .init = tag_init,
    .process = tag_process,
    .close = tag_close,
};

WEIR_PLUGIN("abi_v1_0", "1.0.0", "Built against the frozen 1.0 SDK header", &tag_op)
