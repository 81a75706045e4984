/* std_util — helpers shared by the standard operators (internal to std.so). */
#ifndef WEIR_STD_UTIL_H
#define WEIR_STD_UTIL_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <weir/weir.h>

/* A per-instance byte buffer that only grows, so the record path reuses
 * memory instead of allocating per record. */
typedef struct std_buf {
  char *data;
  size_t cap;
} std_buf_t;

/* Ensure cap >= need. WEIR_OK or WEIR_ENOMEM (the old contents survive). */
int std_buf_reserve(std_buf_t *b, size_t need);
void std_buf_free(std_buf_t *b);

/* regcomp with REG_EXTENDED | extra_flags; on failure writes
 * "<param>: bad regex '<pattern>': <reason>" to errstr. */
int std_regex_compile(regex_t *re, const char *pattern, int extra_flags, const char *param,
                      char *errstr, size_t errstr_size);

/* Copy len bytes into `scratch` and NUL-terminate them, so regexec (and the
 * sanitizers' strlen on its argument) never read past the record's bytes.
 * Returns the copy or NULL on ENOMEM. */
const char *std_regex_subject(std_buf_t *scratch, const void *data, size_t len);

/* regexec over subject[from, len) of a string made by std_regex_subject,
 * with REG_STARTEND so embedded NUL bytes are matched rather than ending the
 * string. Offsets in m are relative to subject. 1 = match, 0 = no match,
 * WEIR_EFAIL when regexec itself fails. */
int std_regex_find(const regex_t *re, const char *subject, size_t from, size_t len, size_t nmatch,
                   regmatch_t *m);

/* "key" or "value" ENUM parameter: 1 when it selects the key. */
int std_param_is_key(weir_ctx_t *ctx, const char *name);

/* The record's key or value bytes; NULL when absent (no key, tombstone). */
const void *std_field(const weir_record_t *rec, int is_key, size_t *len);

/* 1 at most once a minute per *last_s (monotonic seconds, updated; set it
 * to INT64_MIN first): for warnings a replay of old data would repeat on
 * every record. */
int std_log_due(int64_t *last_s);

#endif
