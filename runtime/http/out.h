/* out — a growing text buffer for HTTP answers, with JSON helpers. A failed
 * allocation marks the buffer failed (the answer becomes a 500), so callers
 * append without checking each call. */
#ifndef WEIR_HTTP_OUT_H
#define WEIR_HTTP_OUT_H

#include <stddef.h>

#include "serde/serde.h"

typedef struct weir_out {
  char *data;
  size_t len, cap;
  int failed;
} weir_out_t;

void weir_out_free(weir_out_t *o);
void weir_out_bytes(weir_out_t *o, const void *data, size_t len);
void weir_out_str(weir_out_t *o, const char *s);
void weir_out_printf(weir_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `s` (len bytes) as a quoted JSON string. */
void weir_out_json_string(weir_out_t *o, const void *s, size_t len);
/* `s` percent-encoded but for RFC 3986's unreserved characters. */
void weir_out_url_encode(weir_out_t *o, const char *s);
/* Lowercase hex of the bytes, unquoted. */
void weir_out_hex(weir_out_t *o, const void *data, size_t len);
/* Stored bytes as a JSON value by their serde: int64 a number, string a
 * string, json the value itself, bytes a string when printable ASCII;
 * anything that does not fit its serde {"hex":"..."}. NULL: null. */
void weir_out_json_value(weir_out_t *o, weir_serde_t serde, const void *data, size_t len);

/* Parse lowercase or uppercase hex into out (at most out_size bytes).
 * Returns the byte count, or -1 when not hex or too long. */
long weir_hex_decode(const char *hex, unsigned char *out, size_t out_size);

#endif
