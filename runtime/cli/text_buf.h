/* text_buf — a growing, always NUL-terminated text buffer for the CLI's
 * HTTP client (weir query). A failed allocation marks it failed, so
 * callers append without checking each call. */
#ifndef WEIR_CLI_TEXT_BUF_H
#define WEIR_CLI_TEXT_BUF_H

#include <stddef.h>

typedef struct cli_buf {
  char *data;
  size_t len, cap;
  int failed;
} cli_buf_t;

void cli_buf_free(cli_buf_t *b);
void cli_buf_bytes(cli_buf_t *b, const void *data, size_t len);
void cli_buf_str(cli_buf_t *b, const char *s);
void cli_buf_printf(cli_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `s` percent-encoded but for RFC 3986's unreserved characters. */
void cli_buf_url_encode(cli_buf_t *b, const char *s);

#endif
