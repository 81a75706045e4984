/* diag — collected user-facing error lines.
 *
 * Validation reports every problem it finds, not just the first, so a user
 * fixes a config in one pass. Each entry is one line: "file:line: message".
 */
#ifndef WEIR_UTIL_DIAG_H
#define WEIR_UTIL_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct weir_diag {
  char **lines;
  size_t count;
  size_t cap;
} weir_diag_t;

/* Append "file:line: message" (file may be NULL; line 0 omits the line). */
void weir_diag_add(weir_diag_t *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Print every line to `out`, each prefixed with "weir: error: ". */
void weir_diag_print(const weir_diag_t *d, FILE *out);
void weir_diag_free(weir_diag_t *d);

/* Write one formatted line into a caller's errstr buffer (librdkafka style);
 * a NULL or empty buffer is left alone. */
void weir_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
