/* filter — keeps (or drops) the records whose key or value matches a regex. */
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_util.h"

static const weir_param_def_t filter_params[] = {
    WEIR_PARAM_REGEX_REQ(
        "pattern",
        "POSIX extended regex searched for in the field (anchor it with ^...$ to match all of it)"),
    WEIR_PARAM_ENUM("field", "value", "key|value", "Which part of the record is matched"),
    WEIR_PARAM_ENUM("action", "keep", "keep|drop",
                    "keep: forward matching records; drop: forward the others"),
    WEIR_PARAM_END,
};

typedef struct filter {
  regex_t re;
  int on_key;
  int keep;          /* forward when match == keep */
  std_buf_t scratch; /* NUL-terminated copy of the field for regexec */
} filter_t;

static int filter_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  filter_t *f = calloc(1, sizeof *f);
  if (!f) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  int rc = std_regex_compile(&f->re, weir_param_str(ctx, "pattern"), REG_NOSUB, "pattern", errstr,
                             errstr_size);
  if (rc != WEIR_OK) {
    free(f);
    return rc;
  }
  f->on_key = std_param_is_key(ctx, "field");
  const char *action = weir_param_str(ctx, "action");
  f->keep = !(action && strcmp(action, "drop") == 0);
  *self = f;
  return WEIR_OK;
}

/* 1 match, 0 no match (absent fields never match), <0 error. */
static int filter_matches(filter_t *f, const weir_record_t *rec) {
  size_t len;
  const void *bytes = std_field(rec, f->on_key, &len);
  if (!bytes)
    return 0;
  const char *s = std_regex_subject(&f->scratch, bytes, len);
  if (!s)
    return WEIR_ENOMEM;
  return std_regex_find(&f->re, s, 0, len, 0, NULL);
}

static int filter_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  filter_t *f = self;
  int m = filter_matches(f, rec);
  if (m < 0)
    return m;
  if (m == f->keep)
    return weir_forward(ctx, rec);
  weir_metric_add(ctx, "dropped", 1);
  return WEIR_OK;
}

static void filter_close(weir_ctx_t *ctx, void *self) {
  filter_t *f = self;
  regfree(&f->re);
  std_buf_free(&f->scratch);
  free(f);
}

const weir_operator_def_t std_filter_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "filter",
    .doc = "Keep (or drop) records whose key or value matches a regex",
    .params = filter_params,
    .init = filter_init,
    .process = filter_process,
    .close = filter_close,
};
