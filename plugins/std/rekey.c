/* rekey — sets the key to a capture group of the first regex match in the
 * value (e.g. pattern = "user=([a-z0-9]+)" keys records by user). */
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_util.h"

enum rekey_nomatch { REKEY_DROP, REKEY_KEEP, REKEY_NULL };

static const weir_param_def_t rekey_params[] = {
    WEIR_PARAM_REGEX_REQ("pattern", "POSIX extended regex searched for in the value"),
    WEIR_PARAM_INT("group", "1", 0, 9, "Capture group that becomes the key (0 = the whole match)"),
    WEIR_PARAM_ENUM("on.nomatch", "drop", "drop|keep|null",
                    "No match: drop the record, keep it unchanged, or forward it with no key"),
    WEIR_PARAM_END,
};

typedef struct rekey {
  regex_t re;
  int group;
  enum rekey_nomatch nomatch;
  std_buf_t scratch; /* copy of the value; the new key points into it */
} rekey_t;

static enum rekey_nomatch rekey_parse_nomatch(const char *v) {
  if (v && strcmp(v, "keep") == 0)
    return REKEY_KEEP;
  if (v && strcmp(v, "null") == 0)
    return REKEY_NULL;
  return REKEY_DROP;
}

static int rekey_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  rekey_t *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  const char *pattern = weir_param_str(ctx, "pattern");
  int rc = std_regex_compile(&r->re, pattern, 0, "pattern", errstr, errstr_size);
  if (rc != WEIR_OK) {
    free(r);
    return rc;
  }
  r->group = (int)weir_param_int(ctx, "group");
  if (r->group < 0 || (size_t)r->group > r->re.re_nsub) {
    snprintf(errstr, errstr_size, "group: %d, but pattern '%s' has %zu capture group(s)", r->group,
             pattern, r->re.re_nsub);
    regfree(&r->re);
    free(r);
    return WEIR_EINVAL;
  }
  r->nomatch = rekey_parse_nomatch(weir_param_str(ctx, "on.nomatch"));
  *self = r;
  return WEIR_OK;
}

static int rekey_nomatch(weir_ctx_t *ctx, rekey_t *r, const weir_record_t *rec) {
  if (r->nomatch == REKEY_KEEP)
    return weir_forward(ctx, rec);
  if (r->nomatch == REKEY_NULL) {
    weir_record_t out = *rec;
    out.struct_size = (uint32_t)sizeof out;
    out.key = NULL;
    out.key_len = 0;
    return weir_forward(ctx, &out);
  }
  weir_metric_add(ctx, "dropped", 1);
  return WEIR_OK;
}

static int rekey_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  rekey_t *r = self;
  if (!rec->value)
    return rekey_nomatch(ctx, r, rec);
  const char *s = std_regex_subject(&r->scratch, rec->value, rec->value_len);
  if (!s)
    return WEIR_ENOMEM;
  regmatch_t m[10];
  int found = std_regex_find(&r->re, s, 0, rec->value_len, (size_t)r->group + 1, m);
  if (found < 0)
    return found;
  /* An optional group that took no part in the match counts as no match. */
  if (!found || m[r->group].rm_so < 0)
    return rekey_nomatch(ctx, r, rec);
  weir_record_t out = *rec;
  out.struct_size = (uint32_t)sizeof out;
  out.key = s + m[r->group].rm_so;
  out.key_len = (size_t)(m[r->group].rm_eo - m[r->group].rm_so);
  return weir_forward(ctx, &out);
}

static void rekey_close(weir_ctx_t *ctx, void *self) {
  rekey_t *r = self;
  regfree(&r->re);
  std_buf_free(&r->scratch);
  free(r);
}

const weir_operator_def_t std_rekey_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "rekey",
    .doc = "Set the key to a capture group of the first regex match in the value",
    .params = rekey_params,
    .init = rekey_init,
    .process = rekey_process,
    .close = rekey_close,
};
