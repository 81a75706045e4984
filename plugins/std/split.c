/* split — one output record per piece of the value: pieces between
 * separators, or the matches of a regex. Key, timestamp and headers are
 * those of the input. */
#include <stdlib.h>
#include <string.h>

#include "std_ops.h"
#include "std_util.h"

static const weir_param_def_t split_params[] = {
    WEIR_PARAM_STR(
        "separator", " ",
        "The string between pieces, one space by default (ignored when `pattern` is set)"),
    WEIR_PARAM_REGEX("pattern", NULL,
                     "Emit each match of this regex instead (capture group 1 if it has one)"),
    WEIR_PARAM_BOOL("skip.empty", "true", "Emit no record for an empty piece"),
    WEIR_PARAM_BOOL("lowercase", "false", "ASCII-lowercase each piece (handy for word counts)"),
    WEIR_PARAM_END,
};

typedef struct split {
  const char *sep; /* host-owned, valid until close */
  size_t sep_len;
  int use_regex;
  regex_t re;
  int group; /* 0 or 1: which submatch is the piece */
  int skip_empty;
  int lowercase;
  std_buf_t scratch; /* regex subject */
  std_buf_t lower;   /* the lowercased piece */
} split_t;

static int split_init_regex(split_t *s, const char *pattern, char *errstr, size_t errstr_size) {
  int rc = std_regex_compile(&s->re, pattern, 0, "pattern", errstr, errstr_size);
  if (rc != WEIR_OK)
    return rc;
  s->use_regex = 1;
  s->group = s->re.re_nsub > 0 ? 1 : 0;
  return WEIR_OK;
}

static int split_init(weir_ctx_t *ctx, void **self, char *errstr, size_t errstr_size) {
  split_t *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(errstr, errstr_size, "out of memory");
    return WEIR_ENOMEM;
  }
  const char *pattern = weir_param_str(ctx, "pattern");
  s->sep = weir_param_str(ctx, "separator");
  s->sep_len = s->sep ? strlen(s->sep) : 0;
  s->skip_empty = weir_param_bool(ctx, "skip.empty");
  s->lowercase = weir_param_bool(ctx, "lowercase");
  int rc = WEIR_OK;
  if (pattern && *pattern)
    rc = split_init_regex(s, pattern, errstr, errstr_size);
  else if (s->sep_len == 0) {
    snprintf(errstr, errstr_size, "separator: must not be empty (or set `pattern`)");
    rc = WEIR_EINVAL;
  }
  if (rc != WEIR_OK) {
    free(s);
    return rc;
  }
  *self = s;
  return WEIR_OK;
}

static int split_emit(weir_ctx_t *ctx, split_t *s, const weir_record_t *in, const char *piece,
                      size_t len) {
  if (len == 0 && s->skip_empty)
    return WEIR_OK;
  if (s->lowercase && len) {
    /* The buffer was sized to the whole value before the first piece. */
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)piece[i];
      s->lower.data[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    piece = s->lower.data;
  }
  weir_record_t out = *in;
  out.struct_size = (uint32_t)sizeof out;
  out.value = piece;
  out.value_len = len;
  return weir_forward(ctx, &out);
}

static int split_by_separator(weir_ctx_t *ctx, split_t *s, const weir_record_t *rec) {
  const char *p = rec->value, *end = p + rec->value_len;
  for (;;) {
    const char *hit = memmem(p, (size_t)(end - p), s->sep, s->sep_len);
    const char *stop = hit ? hit : end;
    int rc = split_emit(ctx, s, rec, p, (size_t)(stop - p));
    if (rc != WEIR_OK || !hit)
      return rc;
    p = hit + s->sep_len;
  }
}

static int split_by_regex(weir_ctx_t *ctx, split_t *s, const weir_record_t *rec) {
  size_t len = rec->value_len, pos = 0;
  const char *subject = std_regex_subject(&s->scratch, rec->value, len);
  if (!subject)
    return WEIR_ENOMEM;
  regmatch_t m[2];
  while (pos <= len) {
    int found = std_regex_find(&s->re, subject, pos, len, (size_t)s->group + 1, m);
    if (found <= 0)
      return found;
    regmatch_t g = m[s->group];
    if (g.rm_so >= 0) { /* an optional group that took no part yields nothing */
      int rc = split_emit(ctx, s, rec, subject + g.rm_so, (size_t)(g.rm_eo - g.rm_so));
      if (rc != WEIR_OK)
        return rc;
    }
    /* Step past an empty match, or the loop would find it forever. */
    pos = m[0].rm_eo > m[0].rm_so ? (size_t)m[0].rm_eo : (size_t)m[0].rm_eo + 1;
  }
  return WEIR_OK;
}

static int split_process(weir_ctx_t *ctx, void *self, const weir_record_t *rec) {
  split_t *s = self;
  if (!rec->value) { /* a tombstone has no pieces */
    weir_metric_add(ctx, "dropped", 1);
    return WEIR_OK;
  }
  if (s->lowercase && std_buf_reserve(&s->lower, rec->value_len) != WEIR_OK)
    return WEIR_ENOMEM;
  return s->use_regex ? split_by_regex(ctx, s, rec) : split_by_separator(ctx, s, rec);
}

static void split_close(weir_ctx_t *ctx, void *self) {
  split_t *s = self;
  if (s->use_regex)
    regfree(&s->re);
  std_buf_free(&s->scratch);
  std_buf_free(&s->lower);
  free(s);
}

const weir_operator_def_t std_split_op = {
    .struct_size = sizeof(weir_operator_def_t),
    .type = "split",
    .doc = "Emit one record per separator-delimited piece, or per regex match, of the value",
    .params = split_params,
    .init = split_init,
    .process = split_process,
    .close = split_close,
};
