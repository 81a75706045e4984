#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void weir_diag_add(weir_diag_t *d, const char *file, int line, const char *fmt, ...) {
  char msg[1024];
  char full[1400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (file && line > 0)
    snprintf(full, sizeof full, "%s:%d: %s", file, line, msg);
  else if (file)
    snprintf(full, sizeof full, "%s: %s", file, msg);
  else
    snprintf(full, sizeof full, "%s", msg);
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    char **lines = realloc(d->lines, cap * sizeof *lines);
    if (!lines)
      return; /* out of memory: the earlier lines still stand */
    d->lines = lines;
    d->cap = cap;
  }
  d->lines[d->count] = strdup(full);
  if (d->lines[d->count])
    d->count++;
}

void weir_diag_print(const weir_diag_t *d, FILE *out) {
  for (size_t i = 0; i < d->count; i++)
    fprintf(out, "weir: error: %s\n", d->lines[i]);
}

void weir_diag_free(weir_diag_t *d) {
  for (size_t i = 0; i < d->count; i++)
    free(d->lines[i]);
  free(d->lines);
  memset(d, 0, sizeof *d);
}

void weir_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...) {
  va_list ap;
  if (!errstr || errstr_size == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(errstr, errstr_size, fmt, ap);
  va_end(ap);
}
