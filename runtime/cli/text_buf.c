#include "text_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_buf_free(cli_buf_t *b) {
  free(b->data);
  *b = (cli_buf_t){0};
}

static int reserve(cli_buf_t *b, size_t more) {
  if (b->failed)
    return -1;
  if (b->len + more + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *grown = realloc(b->data, cap);
  if (!grown) {
    b->failed = 1;
    return -1;
  }
  b->data = grown;
  b->cap = cap;
  return 0;
}

void cli_buf_bytes(cli_buf_t *b, const void *data, size_t len) {
  if (reserve(b, len))
    return;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void cli_buf_str(cli_buf_t *b, const char *s) {
  cli_buf_bytes(b, s, strlen(s));
}

void cli_buf_printf(cli_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void cli_buf_url_encode(cli_buf_t *b, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++)
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
        strchr("-._~", *c))
      cli_buf_bytes(b, c, 1);
    else
      cli_buf_printf(b, "%%%02X", *c);
}
