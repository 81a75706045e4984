/* std_util — helpers shared by the standard operators. */
#include "std_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int std_buf_reserve(std_buf_t *b, size_t need) {
  if (need <= b->cap)
    return WEIR_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p)
    return WEIR_ENOMEM;
  b->data = p;
  b->cap = cap;
  return WEIR_OK;
}

void std_buf_free(std_buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->cap = 0;
}

int std_regex_compile(regex_t *re, const char *pattern, int extra_flags, const char *param,
                      char *errstr, size_t errstr_size) {
  if (!pattern) {
    snprintf(errstr, errstr_size, "%s: a regex is required", param);
    return WEIR_EINVAL;
  }
  int rc = regcomp(re, pattern, REG_EXTENDED | extra_flags);
  if (rc == 0)
    return WEIR_OK;
  char why[128];
  regerror(rc, re, why, sizeof why);
  snprintf(errstr, errstr_size, "%s: bad regex '%s': %s", param, pattern, why);
  return rc == REG_ESPACE ? WEIR_ENOMEM : WEIR_EINVAL;
}

const char *std_regex_subject(std_buf_t *scratch, const void *data, size_t len) {
  if (len == SIZE_MAX || std_buf_reserve(scratch, len + 1) != WEIR_OK)
    return NULL;
  if (len)
    memcpy(scratch->data, data, len);
  scratch->data[len] = '\0';
  return scratch->data;
}

int std_regex_find(const regex_t *re, const char *subject, size_t from, size_t len, size_t nmatch,
                   regmatch_t *m) {
  regmatch_t whole[1];
  if (nmatch == 0) {
    m = whole;
    nmatch = 1;
  }
  m[0].rm_so = (regoff_t)from;
  m[0].rm_eo = (regoff_t)len;
  int rc = regexec(re, subject, nmatch, m, REG_STARTEND);
  if (rc == 0)
    return 1;
  return rc == REG_NOMATCH ? 0 : WEIR_EFAIL;
}

int std_param_is_key(weir_ctx_t *ctx, const char *name) {
  const char *v = weir_param_str(ctx, name);
  return v && strcmp(v, "key") == 0;
}

const void *std_field(const weir_record_t *rec, int is_key, size_t *len) {
  *len = is_key ? rec->key_len : rec->value_len;
  return is_key ? rec->key : rec->value;
}

int std_log_due(int64_t *last_s) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  int64_t now = (int64_t)t.tv_sec;
  if (*last_s != INT64_MIN && now - *last_s < 60)
    return 0;
  *last_s = now;
  return 1;
}
